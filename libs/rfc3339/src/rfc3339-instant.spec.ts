import { validate } from 'class-validator';
import { IsRfc3339Instant } from './is-rfc3339-instant.decorator';
import { rfc3339Instant } from './rfc3339-instant';

describe('rfc3339Instant', () => {
  it('reads offsets, fractions and lower-case separators to the same instant', () => {
    const at = Date.UTC(2026, 10, 25, 12, 0, 0, 123);
    expect(rfc3339Instant('2026-11-25T12:00:00.123Z')).toBe(at);
    expect(rfc3339Instant('2026-11-25t14:00:00.123456789+02:00')).toBe(at);
    expect(rfc3339Instant('2026-11-25 12:00:00.1239999999999z')).toBe(at);
  });

  it('reads a leap second as the next second', () => {
    expect(rfc3339Instant('2016-12-31T23:59:60Z')).toBe(Date.UTC(2017, 0, 1));
  });

  it('refuses what names no instant, or what Date would misread', () => {
    for (const text of ['2026-02-30T00:00:00Z', '2026-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-25T24:00:00Z', '2026-11-25T12:60:00Z', '2026-11-25T12:00:61Z', '2026-11-25T12:00:00', '2026-11-25', '1700000000000', '2026-11-25T12:00:00+0200', ' 2026-11-25T12:00:00Z']) {
      expect([text, rfc3339Instant(text)]).toEqual([text, undefined]);
    }
    expect(rfc3339Instant('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    // Outside years 0001-9999 once the offset is applied.
    for (const text of ['0000-01-01T00:00:00Z', '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59-01:00', '9999-12-31T23:59:60Z']) {
      expect([text, rfc3339Instant(text)]).toEqual([text, undefined]);
    }
    expect(new Date(rfc3339Instant('0001-01-01T00:00:00Z') as number).toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(new Date(rfc3339Instant('9999-12-31T23:59:59.999Z') as number).toISOString()).toBe('9999-12-31T23:59:59.999Z');
  });
});

describe('IsRfc3339Instant', () => {
  class Query {
    @IsRfc3339Instant() from?: unknown;
  }
  const errorsOf = async (from: unknown) => (await validate(Object.assign(new Query(), { from }))).length;

  it('admits exactly what the reader reads', async () => {
    expect(await errorsOf('2016-12-31T23:59:60Z')).toBe(0);
    expect(await errorsOf('2026-02-30T00:00:00Z')).toBe(1);
    expect(await errorsOf(1_700_000_000_000)).toBe(1);
    expect(await errorsOf(['2026-11-25T12:00:00Z'])).toBe(1);
  });
});

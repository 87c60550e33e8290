const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z (Date.UTC reads years 0-99 as 1900-1999). */
export const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00Z');
export const LAST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * The instant an RFC 3339 date-time names (a usage event's `time`, a report's or a listing's `from` and `to`), in
 * milliseconds, or undefined when it names none.
 * RFC 3339 allows what `Date.parse` gets wrong: a leap second (`23:59:60`, NaN to `Date.parse`),
 * taken here as the next second's start, as PostgreSQL takes it; and it is only a pattern, so a
 * day the month does not have (`02-30`, which `Date.parse` rolls into March) names no instant.
 */
export function rfc3339Instant(time: string): number | undefined {
  const match = RFC3339.exec(time);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction = '', offset] = match;
  const y = Number(year);
  const m = Number(month);
  if (m < 1 || m > 12 || Number(day) < 1 || Number(day) > daysIn(y, m)) return undefined;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 60) return undefined;
  const leap = second === '60';
  // Milliseconds only: V8 misreads some fractions longer than nine digits.
  const at = Date.parse(`${year}-${month}-${day}T${hour}:${minute}:${leap ? '59' : second}${fraction.slice(0, 4)}${offset.toUpperCase()}`);
  if (Number.isNaN(at)) return undefined;
  const instant = leap ? at + 1000 : at;
  // Years 0001-9999 once the offset is applied: year 0000 (or 9999 pushed past by an offset) is no
  // year PostgreSQL stores, and toISOString would print it as -000001 or +010000, not RFC 3339.
  return instant >= FIRST_INSTANT && instant <= LAST_INSTANT ? instant : undefined;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Rollup granularities, all in UTC. */
export type Granularity = 'hour' | 'day' | 'month';

export const GRANULARITIES: readonly Granularity[] = ['hour', 'day', 'month'];

/** The start of the UTC hour, day or month holding `at`. */
export function periodStart(at: Date, granularity: Granularity): Date {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  if (granularity === 'month') return new Date(Date.UTC(y, m, 1));
  if (granularity === 'day') return new Date(Date.UTC(y, m, at.getUTCDate()));
  return new Date(Date.UTC(y, m, at.getUTCDate(), at.getUTCHours()));
}

/** The start of the period after the one starting at `start`. */
export function nextPeriod(start: Date, granularity: Granularity): Date {
  if (granularity === 'month') return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
  return new Date(start.getTime() + (granularity === 'day' ? 86_400_000 : 3_600_000));
}

/**
 * Years 2000-2999 only: `Date.UTC` reads years 0-99 as 1900-1999 (0000-01 acknowledged 1900-01),
 * and 9999-12 ends in year 10000, which `toISOString` writes as `+010000-01-01...`, a text
 * PostgreSQL cannot read (every tenant's export then came back `unavailable`, as in an outage).
 */
const BILLING_PERIOD = /^(2\d{3})-(0[1-9]|1[0-2])$/;

/** A billing period `YYYY-MM` as `[from, to)`, or undefined when malformed. */
export function billingPeriod(period: string): { from: Date; to: Date } | undefined {
  const match = BILLING_PERIOD.exec(period);
  if (!match) return undefined;
  const from = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1));
  return { from, to: nextPeriod(from, 'month') };
}

export const BILLING_PERIOD_PATTERN = BILLING_PERIOD.source;

/** What is metered per tenant and minute, across every instance. */
export const USAGE_MEASURES = ['requests', 'db_ms', 'job_ms', 'rows_written'] as const;
export type UsageMeasure = (typeof USAGE_MEASURES)[number];

export type Usage = Record<UsageMeasure, number>;

/**
 * Below these a tenant is never noisy in a measure, whatever the median: with most tenants idle
 * the median is near zero and any ratio is meaningless (one request per second, one second of
 * database or job time, a hundred rows, per minute).
 */
export const MEASURE_FLOORS: Readonly<Usage> = { requests: 60, db_ms: 1000, job_ms: 1000, rows_written: 100 };

export function minuteOf(epochMs: number): number {
  return Math.floor(epochMs / 60_000);
}

import { MEASURE_FLOORS, Usage, USAGE_MEASURES, UsageMeasure } from './usage-measures';

/** One measure in which a tenant used more than the ratio times the median. */
export interface NoisyFinding {
  readonly measure: UsageMeasure;
  readonly value: number;
  readonly median: number;
  readonly ratio: number;
}

export interface DetectionOptions {
  /** NOISY_RATIO: more than this many times the median is noisy. */
  readonly ratio: number;
  /** NOISY_MIN_TENANTS: fewer tenants with usage in the minute and nobody is compared. */
  readonly minTenants: number;
}

/**
 * The tenants of one minute above `ratio` x the median of all tenants with usage that minute, in
 * any measure. The median, not the mean: one very noisy tenant cannot raise the bar it is judged
 * by. A measure's floor (`MEASURE_FLOORS`) stands in for a median below it, so with most tenants
 * idle a modest one is not flagged for an infinite ratio.
 */
export function detectNoisy(usage: ReadonlyMap<string, Usage>, options: DetectionOptions): Map<string, NoisyFinding[]> {
  const noisy = new Map<string, NoisyFinding[]>();
  if (usage.size < options.minTenants) return noisy;
  for (const measure of USAGE_MEASURES) {
    const values = [...usage.values()].map((entry) => entry[measure]);
    const median = medianOf(values);
    const bar = options.ratio * Math.max(median, MEASURE_FLOORS[measure]);
    for (const [tenantId, entry] of usage) {
      const value = entry[measure];
      if (value <= bar) continue;
      const findings = noisy.get(tenantId) ?? [];
      findings.push({ measure, value, median, ratio: median > 0 ? value / median : Number.POSITIVE_INFINITY });
      noisy.set(tenantId, findings);
    }
  }
  return noisy;
}

export function medianOf(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

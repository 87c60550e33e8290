import { RateDecision } from './rate-decision';
import { RatePolicy } from './rate-policy';

/** Entries past this are swept of the ones whose allowance is whole again (they equal no entry). */
const SWEEP_AT = 50_000;

/**
 * The same GCRA as the Redis script, in this process's memory: what decides while Redis is
 * unreachable. Each process enforces its own share (`RatePolicies.local`), so the fleet stays near
 * the shared limit without talking to anyone.
 */
export class LocalRateLimiter {
  /** key -> theoretical arrival time in µs. */
  private readonly arrivals = new Map<string, number>();
  /** Doubles past a sweep that freed little, so a large live set is not rescanned on every new key. */
  private sweepAt = SWEEP_AT;

  take(key: string, policy: RatePolicy, nowUs = Date.now() * 1000): RateDecision {
    const stored = this.arrivals.get(key);
    const tat = stored === undefined || stored < nowUs ? nowUs : stored;
    const after = tat + policy.intervalUs;
    if (after - nowUs > policy.capacityUs) {
      return {
        allowed: false,
        remaining: Math.max(0, Math.floor((policy.capacityUs - (tat - nowUs)) / policy.intervalUs)),
        resetMs: Math.ceil((tat - nowUs) / 1000),
        retryAfterMs: Math.ceil((after - nowUs - policy.capacityUs) / 1000),
        policy,
      };
    }
    if (stored === undefined && this.arrivals.size >= this.sweepAt) this.sweep(nowUs);
    this.arrivals.set(key, after);
    return {
      allowed: true,
      remaining: Math.floor((policy.capacityUs - (after - nowUs)) / policy.intervalUs),
      resetMs: Math.ceil((after - nowUs) / 1000),
      retryAfterMs: 0,
      policy,
    };
  }

  get size(): number {
    return this.arrivals.size;
  }

  private sweep(nowUs: number): void {
    for (const [key, tat] of this.arrivals) if (tat <= nowUs) this.arrivals.delete(key);
    this.sweepAt = Math.max(SWEEP_AT, this.arrivals.size * 2);
  }
}

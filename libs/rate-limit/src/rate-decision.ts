import { RatePolicy } from './rate-policy';

/** The answer for one request: whether it may run, and what to tell the client either way. */
export interface RateDecision {
  readonly allowed: boolean;
  /** Requests that would still be admitted right now. */
  readonly remaining: number;
  /** Until the tenant's allowance in this class is whole again. */
  readonly resetMs: number;
  /** Until the next request would be admitted (0 when this one was). */
  readonly retryAfterMs: number;
  readonly policy: RatePolicy;
}

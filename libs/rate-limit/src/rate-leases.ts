import { RateDecision } from './rate-decision';
import { RatePolicy } from './rate-policy';

/** The most requests one lease may hold, whatever the demand. */
const MAX_LEASE = 500;
/** A lease's demand estimate is kept this many lease lengths after it ends, so a steady tenant's next lease starts at its rate. */
const KEEP_LEASES = 10;

/**
 * Requests the shared limiter granted this instance ahead of time, for one tenant and route class.
 * They were taken from the tenant's schedule in Redis when granted, so admitting them here never
 * lets the fleet past the limit; until the lease ends they only cost this process a decrement.
 */
interface Lease {
  readonly tenantId: string;
  readonly policy: RatePolicy;
  /** Granted requests not yet admitted. */
  tokens: number;
  /** Granted in all, for the demand estimate. */
  granted: number;
  readonly grantedAt: number;
  readonly expiresAt: number;
  /** The tenant's allowance left in Redis at the last grant, not counting `tokens`. */
  remaining: number;
  /** Until the allowance is whole again, as of the last grant, every granted request counted as used. */
  resetMs: number;
}

/** What to ask the shared limiter for: requests wanted (1: this one alone), and unused ones to give back. */
export interface LeaseClaim {
  readonly wanted: number;
  readonly refundUs: number;
}

/** Unused requests of an ended lease, to give back to the tenant's schedule. */
export interface LeaseRefund {
  readonly key: string;
  readonly tenantId: string;
  readonly policy: RatePolicy;
  readonly refundUs: number;
}

/**
 * Leases per limiter key. A key's lease is sized to its demand on this instance over one lease
 * length (growing at most fourfold per grant; a tenant at a request a second is decided in Redis
 * request by request), and Redis grants at most a sixteenth of what fits, so near the limit every
 * request is decided there again. Times are `performance.now()` milliseconds.
 */
export class RateLeases {
  private readonly leases = new Map<string, Lease>();

  /** `leaseMs` 0: no leases, every request is decided in Redis. */
  constructor(private readonly leaseMs: number) {}

  /** One request admitted from this instance's lease, or null when it holds none for this policy. */
  admit(key: string, policy: RatePolicy, now: number): RateDecision | null {
    const lease = this.leases.get(key);
    if (lease === undefined || lease.tokens === 0 || lease.policy !== policy || now >= lease.expiresAt) return null;
    lease.tokens--;
    return {
      allowed: true,
      remaining: lease.remaining + lease.tokens,
      resetMs: Math.max(0, lease.resetMs - (lease.tokens * policy.intervalUs) / 1000 - (now - lease.grantedAt)),
      retryAfterMs: 0,
      policy,
    };
  }

  /** Before a call to Redis: the demand to ask for, and an ended lease's unused requests (forgotten here: they go back with the call). */
  claim(key: string, policy: RatePolicy, now: number): LeaseClaim {
    const lease = this.leases.get(key);
    if (this.leaseMs === 0 || lease === undefined) return { wanted: 1, refundUs: 0 };
    const used = lease.granted - lease.tokens;
    const rate = used / Math.max(1, Math.min(now, lease.expiresAt) - lease.grantedAt);
    const wanted = Math.max(1, Math.min(MAX_LEASE, 4 * lease.granted, Math.ceil(rate * this.leaseMs)));
    let refundUs = 0;
    if (lease.tokens > 0 && (now >= lease.expiresAt || lease.policy !== policy)) {
      refundUs = lease.tokens * lease.policy.intervalUs;
      lease.tokens = 0;
    }
    return { wanted, refundUs };
  }

  /** After Redis admitted a request and granted `granted` (that request included). */
  install(key: string, tenantId: string, policy: RatePolicy, granted: number, remaining: number, resetMs: number, now: number): void {
    if (this.leaseMs === 0) return;
    const lease = this.leases.get(key);
    // Concurrent calls for one key each bring a grant: they join the live lease rather than replace it.
    if (lease !== undefined && lease.policy === policy && now < lease.expiresAt && lease.tokens > 0) {
      lease.tokens += granted - 1;
      lease.granted += granted;
      lease.remaining = remaining;
      lease.resetMs = resetMs;
      return;
    }
    this.leases.set(key, { tenantId, policy, tokens: granted - 1, granted, grantedAt: now, expiresAt: now + this.leaseMs, remaining, resetMs });
  }

  /** Ends expired leases: their unused requests to give back; long-ended ones are forgotten. */
  sweep(now: number): LeaseRefund[] {
    const refunds: LeaseRefund[] = [];
    for (const [key, lease] of this.leases) {
      if (now < lease.expiresAt) continue;
      if (lease.tokens > 0) {
        refunds.push({ key, tenantId: lease.tenantId, policy: lease.policy, refundUs: lease.tokens * lease.policy.intervalUs });
        lease.tokens = 0;
      }
      if (now >= lease.expiresAt + KEEP_LEASES * this.leaseMs) this.leases.delete(key);
    }
    return refunds;
  }

  /** Ends every lease now (shutdown): all unused requests to give back. */
  endAll(): LeaseRefund[] {
    const refunds = this.sweep(Number.POSITIVE_INFINITY);
    this.leases.clear();
    return refunds;
  }
}

import { RateDecision } from './rate-decision';
import { RatePolicy } from './rate-policy';

/** The most requests one lease may hold, whatever the demand. */
const MAX_LEASE = 500;
/** A key's demand estimate is kept this many lease lengths after its lease ends, so a steady tenant's next lease starts at its rate. */
const KEEP_LEASES = 10;

/**
 * Requests the shared limiter granted this instance ahead of time, for one tenant and route class.
 * They were taken from the tenant's schedule in Redis when granted, so admitting them here never
 * lets the fleet past the limit; until the lease ends they only cost this process a decrement.
 * One object per key, updated in place by every grant.
 */
interface Lease {
  readonly tenantId: string;
  policy: RatePolicy;
  /** Granted requests not yet admitted. */
  tokens: number;
  /** Requests admitted in this lease period (the deciding ones included): the demand estimate. */
  used: number;
  startedAt: number;
  expiresAt: number;
  /** The schedule's end (TAT, µs) after the last grant: unused requests beyond now are all a refund may give back. */
  tatUs: number;
  /** The tenant's allowance left in Redis at the last grant, not counting `tokens`. */
  remaining: number;
  /** When the allowance is whole again, as of the last grant, every granted request counted as used. */
  resetAt: number;
  /** A lease request for this key is in flight: other requests meanwhile ask for themselves alone. */
  asking: boolean;
}

/** What to ask the shared limiter for: requests wanted (1: this one alone), and unused ones to give back. */
export interface LeaseClaim {
  readonly wanted: number;
  readonly refund: LeaseRefund | null;
}

/** Unused requests of an ended lease, to give back to the tenant's schedule. */
export interface LeaseRefund {
  readonly key: string;
  readonly tenantId: string;
  readonly policy: RatePolicy;
  readonly refundUs: number;
  /** The schedule's end when they were granted: no more than what still lies beyond now is given back. */
  readonly tatUs: number;
}

/** A grant from the shared limiter: requests granted (the deciding one included), and the allowance after it. */
export interface LeaseGrant {
  readonly granted: number;
  readonly remaining: number;
  readonly resetMs: number;
  readonly tatUs: number;
}

/**
 * Leases per limiter key. A key's lease is sized to its demand on this instance over one lease
 * length (growing at most fourfold per grant), one lease request per key at a time, and Redis
 * grants at most a sixteenth of what fits, so near the limit every request is decided there
 * again. Times are `performance.now()` milliseconds.
 */
export class RateLeases {
  private readonly leases = new Map<string, Lease>();
  /** Unused requests of leases replaced under another policy, given back at the next sweep. */
  private orphans: LeaseRefund[] = [];
  private closed = false;

  /** `leaseMs` 0: no leases, every request is decided in Redis. */
  constructor(private readonly leaseMs: number) {}

  /** One request admitted from this instance's lease, or null when it holds none for this policy. */
  admit(key: string, policy: RatePolicy, now: number): RateDecision | null {
    const lease = this.leases.get(key);
    if (lease === undefined || lease.tokens === 0 || lease.policy !== policy || now >= lease.expiresAt) return null;
    lease.tokens--;
    lease.used++;
    return this.decisionOf(lease, now);
  }

  /** Before a call to Redis: the demand to ask for, and an ended lease's unused requests (forgotten here: they go back with the call). */
  claim(key: string, policy: RatePolicy, now: number): LeaseClaim {
    const lease = this.leases.get(key);
    if (this.leaseMs === 0 || this.closed || lease === undefined) return { wanted: 1, refund: null };
    const refund = lease.tokens > 0 && (now >= lease.expiresAt || lease.policy !== policy) ? this.end(key, lease) : null;
    if (lease.asking) return { wanted: 1, refund };
    const rate = lease.used / Math.max(1, Math.min(now, lease.expiresAt) - lease.startedAt);
    const wanted = Math.max(1, Math.min(MAX_LEASE, 4 * lease.used, Math.ceil(rate * this.leaseMs)));
    lease.asking = wanted > 1;
    return { wanted, refund };
  }

  /** After the call: Redis refused or failed, so no lease came of it. */
  abandon(key: string, claim: LeaseClaim): void {
    const lease = this.leases.get(key);
    if (lease !== undefined && claim.wanted > 1) lease.asking = false;
  }

  /** After Redis admitted a request and granted `grant.granted` (that request included): the decision to answer with. */
  install(key: string, tenantId: string, policy: RatePolicy, claim: LeaseClaim, grant: LeaseGrant, now: number): RateDecision {
    if (this.leaseMs === 0 || this.closed) {
      return { allowed: true, remaining: grant.remaining + grant.granted - 1, resetMs: grant.resetMs, retryAfterMs: 0, policy };
    }
    let lease = this.leases.get(key);
    if (lease !== undefined && lease.policy !== policy) {
      if (lease.tokens > 0) this.orphans.push(this.end(key, lease));
      lease = undefined;
    }
    if (lease === undefined) {
      lease = { tenantId, policy, tokens: 0, used: 0, startedAt: now, expiresAt: now, tatUs: 0, remaining: 0, resetAt: now, asking: false };
      this.leases.set(key, lease);
    }
    if (claim.wanted > 1) lease.asking = false;
    if (now >= lease.expiresAt || (grant.granted > 1 && lease.tokens === 0)) {
      // A new period: the last lease is spent, or ended (its unused requests went back with the claim).
      lease.used = 0;
      lease.startedAt = now;
      lease.expiresAt = now + this.leaseMs;
    }
    // Concurrent calls for one key each bring a grant: they join the live lease.
    lease.tokens += grant.granted - 1;
    lease.used++;
    lease.tatUs = Math.max(lease.tatUs, grant.tatUs);
    lease.remaining = grant.remaining;
    lease.resetAt = now + grant.resetMs;
    return this.decisionOf(lease, now);
  }

  /** Ends expired leases: their unused requests to give back; long-ended ones are forgotten. */
  sweep(now: number): LeaseRefund[] {
    const refunds = this.orphans;
    this.orphans = [];
    for (const [key, lease] of this.leases) {
      if (now < lease.expiresAt) continue;
      if (lease.tokens > 0) refunds.push(this.end(key, lease));
      if (now >= lease.expiresAt + KEEP_LEASES * this.leaseMs && !lease.asking) this.leases.delete(key);
    }
    return refunds;
  }

  /** Ends every lease now and grants none from here on (shutdown): all unused requests to give back. */
  close(): LeaseRefund[] {
    this.closed = true;
    const refunds = this.sweep(Number.POSITIVE_INFINITY);
    this.leases.clear();
    return refunds;
  }

  private end(key: string, lease: Lease): LeaseRefund {
    const refund = { key, tenantId: lease.tenantId, policy: lease.policy, refundUs: lease.tokens * lease.policy.intervalUs, tatUs: lease.tatUs };
    lease.tokens = 0;
    return refund;
  }

  /** What the client is told: the tenant's allowance with the requests leased here counted as still there. */
  private decisionOf(lease: Lease, now: number): RateDecision {
    const intervalMs = lease.policy.intervalUs / 1000;
    return {
      allowed: true,
      remaining: lease.remaining + lease.tokens,
      resetMs: Math.max(0, lease.resetAt - now - lease.tokens * intervalMs),
      retryAfterMs: 0,
      policy: lease.policy,
    };
  }
}

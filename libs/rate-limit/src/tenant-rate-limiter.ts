import { BulkheadConfig, RouteClass, TenantTier } from '@bulkhead/config';
import { isInfrastructureFailure } from '@bulkhead/problem';
import { Injectable, Logger } from '@nestjs/common';
import { LocalRateLimiter } from './local-rate-limiter';
import { LocalRequestCounts } from './local-request-counts';
import { RateDecision } from './rate-decision';
import { RateLimitRedis } from './rate-limit.redis';
import { bindTakeScript, TakeCall } from './rate-limit.script';
import { RatePolicies, RatePolicy } from './rate-policy';

/** A tenant's policies per route class as `take` applies them now (see `policiesOf`). */
export interface EffectivePolicies {
  /** Its tier's configured limits. */
  readonly tier: Readonly<Record<RouteClass, RatePolicy>>;
  /** Enforced through Redis for the fleet: the tier's, or lowered while the tenant is flagged noisy. */
  readonly shared: Readonly<Record<RouteClass, RatePolicy>>;
  /** This process's share of them, enforced in memory while Redis is unreachable. */
  readonly local: Readonly<Record<RouteClass, RatePolicy>>;
  /** The noisy-neighbour factor applied, or null when the tenant is not throttled. */
  readonly throttleFactor: number | null;
  /** True while this process decides in memory (Redis unreachable or slow). */
  readonly inMemory: boolean;
}
import { countsKey, limiterKey, minuteOf, refusedField } from './request-count.keys';

/**
 * Decides whether a tenant may make one more request in a route class, and counts the request,
 * in one Redis round trip (one EVALSHA) shared by every API instance. While Redis is unreachable
 * or slow, this process decides alone with its share of the limit and keeps the counts in memory
 * until Redis answers again.
 */
@Injectable()
export class TenantRateLimiter {
  private readonly logger = new Logger('RateLimit');
  private readonly policies: RatePolicies;
  /** Tenants whose limits are lowered (flagged noisy), and the lowered policies; empty: no lookup cost beyond a size check. */
  private throttled: ReadonlySet<string> = new Set();
  private throttledPolicies: RatePolicies | undefined;
  private throttleFactor = 1;
  private readonly script: TakeCall;
  private readonly local = new LocalRateLimiter();
  private readonly localCounts = new LocalRequestCounts();
  private readonly retentionSeconds: number;
  /** Set while decisions are taken in this process; logged once per outage, not per request. */
  private degraded = false;
  private flushing = false;
  private connected = false;
  private outageLogged = false;

  constructor(
    private readonly config: BulkheadConfig,
    private readonly redis: RateLimitRedis,
  ) {
    this.policies = new RatePolicies(config);
    this.retentionSeconds = config.REQUEST_COUNTS_RETENTION_HOURS * 3600;
    this.script = bindTakeScript(redis.client);
    redis.client.on('ready', () => void this.recovered());
  }

  /**
   * Lowers the limits of these tenants to `factor` of their tier's (replacing any earlier set);
   * an empty set restores everyone. Called by the noisy-neighbour detector's announcements.
   */
  throttle(tenantIds: Iterable<string>, factor: number): void {
    this.throttled = new Set(tenantIds);
    if (this.throttled.size > 0 && !this.throttledPolicies) this.throttledPolicies = new RatePolicies(this.config, factor);
    this.throttleFactor = factor;
  }

  /**
   * What `take` would enforce for this tenant now, as this process sees it: its tier's policies,
   * or the lowered ones while it is flagged noisy (the flag reaches every instance through the
   * detector's announcements), and whether decisions are taken in memory because Redis is away.
   */
  policiesOf(tenantId: string, tier: TenantTier): EffectivePolicies {
    const throttled = this.throttled.size > 0 && this.throttled.has(tenantId);
    const policies = throttled ? (this.throttledPolicies as RatePolicies) : this.policies;
    return {
      tier: this.policies.shared[tier],
      shared: policies.shared[tier],
      local: policies.local[tier],
      throttleFactor: throttled ? this.throttleFactor : null,
      inMemory: this.degraded,
    };
  }

  async take(tenantId: string, tier: TenantTier, routeClass: RouteClass): Promise<RateDecision> {
    const policies = this.throttled.size > 0 && this.throttled.has(tenantId) ? (this.throttledPolicies as RatePolicies) : this.policies;
    const policy = policies.shared[tier][routeClass];
    const minute = minuteOf(Date.now());
    if (this.redis.ready) {
      try {
        const [allowed, remaining, resetMs, retryAfterMs] = await this.script(
          limiterKey(tenantId, routeClass),
          countsKey(tenantId, minute),
          policy.intervalUs,
          policy.capacityUs,
          routeClass,
          this.retentionSeconds,
        );
        // After a timeout the connection may never have dropped, so no `ready` event ends the episode.
        if (this.degraded) void this.recovered();
        return { allowed: allowed === 1, remaining, resetMs, retryAfterMs, policy };
      } catch (error) {
        // Anything but an unreachable or slow Redis is a bug: let it fail the request.
        if (!isInfrastructureFailure(error)) throw error;
        this.degrade(error);
      }
    } else {
      this.degrade(undefined);
    }
    const decision = this.local.take(limiterKey(tenantId, routeClass), policies.local[tier][routeClass]);
    this.localCounts.add(countsKey(tenantId, minute), decision.allowed ? routeClass : refusedField(routeClass));
    return decision;
  }

  private degrade(error: unknown): void {
    if (this.degraded) return;
    this.degraded = true;
    // Before the first connection completes (a request during start-up) there is no outage to report.
    if (!this.connected && error === undefined) return;
    this.outageLogged = true;
    this.logger.warn(
      { err: error, status: this.redis.client.status },
      'rate limits: Redis unreachable or slow, this process now enforces its share of each limit in memory',
    );
  }

  /** Redis is back: shared decisions again, and the counts held meanwhile go where they belong. */
  private async recovered(): Promise<void> {
    this.connected = true;
    this.degraded = false;
    if (this.outageLogged) {
      this.outageLogged = false;
      this.logger.log('rate limits: Redis answers again, limits are shared again');
    }
    if (this.flushing || this.localCounts.isEmpty) return;
    this.flushing = true;
    const drained = this.localCounts.drain();
    try {
      // MULTI: all of it or none, so a failed flush retried later never counts twice.
      const pipeline = this.redis.client.multi();
      for (const [key, fields] of drained) {
        for (const [field, count] of fields) pipeline.hincrby(key, field, count);
        pipeline.expire(key, this.retentionSeconds, 'NX');
      }
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([error]) => error);
      if (failed) throw failed[0];
    } catch (error) {
      // Not lost yet: kept for the next reconnection.
      this.localCounts.restore(drained);
      this.logger.warn({ err: error }, 'rate limits: could not add the request counts taken during the outage; will retry');
    } finally {
      this.flushing = false;
    }
  }
}

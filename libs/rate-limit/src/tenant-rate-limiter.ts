import { BulkheadConfig, RouteClass, TenantTier } from '@bulkhead/config';
import { isInfrastructureFailure } from '@bulkhead/problem';
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { LocalRateLimiter } from './local-rate-limiter';
import { LocalRequestCounts } from './local-request-counts';
import { RateDecision } from './rate-decision';
import { LeaseClaim, LeaseRefund, RateLeases } from './rate-leases';
import { RateLimitRedis } from './rate-limit.redis';
import { bindTakeScript, TakeCall } from './rate-limit.script';
import { RatePolicies, RatePolicy } from './rate-policy';
import { batchTakes } from './take-batch';

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

/** How often ended leases are given back and the counts held here are added to Redis. */
const SETTLE_INTERVAL_MS = 500;

/**
 * Decides whether a tenant may make one more request in a route class, and counts the request,
 * in one Redis round trip (one EVALSHA, sent with the other takes of the same turn of the event
 * loop: see batchTakes) shared by every API instance. A tenant busy on this
 * instance is granted a short lease (RATE_LIMIT_LEASE_MS) of requests sized to its demand, admitted
 * here without a round trip and counted in Redis within SETTLE_INTERVAL_MS. While Redis is
 * unreachable or slow, this process decides alone with its share of the limit and keeps the
 * counts in memory until Redis answers again.
 */
@Injectable()
export class TenantRateLimiter implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('RateLimit');
  private readonly policies: RatePolicies;
  /** Tenants whose limits are lowered (flagged noisy), and the lowered policies; empty: no lookup cost beyond a size check. */
  private throttled: ReadonlySet<string> = new Set();
  private throttledPolicies: RatePolicies | undefined;
  private throttleFactor = 1;
  private readonly script: TakeCall;
  private readonly local = new LocalRateLimiter();
  /** Counts not yet in Redis: requests admitted from a lease, and any decided in memory during an outage. */
  private readonly localCounts = new LocalRequestCounts();
  private readonly leases: RateLeases;
  private settleTimer: NodeJS.Timeout | undefined;
  private readonly retentionSeconds: number;
  /** Set while decisions are taken in this process; logged once per outage, not per request. */
  private degraded = false;
  /** The hand-over under way, if any: a second one waits for it rather than skipping. */
  private flushing: Promise<void> | undefined;
  private connected = false;
  private outageLogged = false;

  constructor(
    private readonly config: BulkheadConfig,
    private readonly redis: RateLimitRedis,
  ) {
    this.policies = new RatePolicies(config);
    this.retentionSeconds = config.REQUEST_COUNTS_RETENTION_HOURS * 3600;
    this.leases = new RateLeases(config.RATE_LIMIT_LEASE_MS);
    this.script = batchTakes(redis.client, bindTakeScript(redis.client));
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
    const key = limiterKey(tenantId, routeClass);
    const now = performance.now();
    const leased = this.leases.admit(key, policy, now);
    if (leased) {
      this.localCounts.add(countsKey(tenantId, minute), routeClass);
      return leased;
    }
    if (this.redis.ready) {
      const claim = this.leases.claim(key, policy, now);
      try {
        const [allowed, remaining, resetMs, retryAfterMs, granted, tatUs] = await this.script(
          key,
          countsKey(tenantId, minute),
          policy.intervalUs,
          policy.capacityUs,
          routeClass,
          this.retentionSeconds,
          claim.wanted,
          claim.refund?.refundUs ?? 0,
          claim.refund?.tatUs ?? 0,
        );
        // After a timeout the connection may never have dropped, so no `ready` event ends the episode.
        if (this.degraded) void this.recovered();
        if (allowed === 0) {
          this.leases.abandon(key, claim);
          return { allowed: false, remaining, resetMs, retryAfterMs, policy };
        }
        return this.leases.install(key, tenantId, policy, claim, { granted, remaining, resetMs, tatUs }, performance.now());
      } catch (error) {
        this.leases.abandon(key, claim);
        // Anything but an unreachable or slow Redis is a bug: let it fail the request.
        if (!isInfrastructureFailure(error)) throw error;
        this.degrade(error);
      }
    } else {
      this.degrade(undefined);
    }
    const decision = this.local.take(key, policies.local[tier][routeClass]);
    this.localCounts.add(countsKey(tenantId, minute), decision.allowed ? routeClass : refusedField(routeClass));
    return decision;
  }

  onApplicationBootstrap(): void {
    this.settleTimer = setInterval(() => void this.settle(this.leases.sweep(performance.now())), SETTLE_INTERVAL_MS);
    this.settleTimer.unref();
  }

  /**
   * Before the connections close: no more leases (requests still in flight are decided in Redis
   * one by one), every lease's unused requests go back, every count held here goes in.
   */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.settleTimer);
    await this.settle(this.leases.close());
  }

  /**
   * Gives ended leases' unused requests back to their tenants' schedules and adds the counts held
   * here to Redis. With Redis away both wait: counts for the next settle, refunds are dropped (the
   * tenant was only held below its limit for a moment).
   */
  private async settle(refunds: LeaseRefund[]): Promise<void> {
    if (this.redis.ready && refunds.length > 0) {
      const minute = minuteOf(Date.now());
      await Promise.all(
        refunds.map(({ key, tenantId, policy, refundUs, tatUs }) =>
          this.script(key, countsKey(tenantId, minute), policy.intervalUs, policy.capacityUs, policy.routeClass, this.retentionSeconds, 0, refundUs, tatUs).catch(
            (error: unknown) => {
              if (!isInfrastructureFailure(error)) this.logger.error({ err: error }, 'rate limits: giving back a lease failed');
            },
          ),
        ),
      );
    }
    await this.flushCounts();
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
    await this.flushCounts();
  }

  /** Adds the counts held here to Redis; while a hand-over is under way, waits for it and then hands over what came meanwhile. */
  private async flushCounts(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.localCounts.isEmpty || this.redis.counts.status !== 'ready') return;
    this.flushing = this.handOver(this.localCounts.drain());
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  private async handOver(drained: Map<string, Map<string, number>>): Promise<void> {
    // One MULTI per key (a key is one tenant's minute, one hash slot on Redis Cluster): all of a
    // key's counts or none, so a key whose hand-over failed is retried later without counting twice.
    const failed = new Map<string, Map<string, number>>();
    let firstError: unknown;
    await Promise.all(
      [...drained].map(async ([key, fields]) => {
        const transaction = this.redis.counts.multi();
        for (const [field, count] of fields) transaction.hincrby(key, field, count);
        transaction.expire(key, this.retentionSeconds, 'NX');
        try {
          const results = (await transaction.exec()) ?? [];
          const error = results.find(([failure]) => failure)?.[0];
          if (error) throw error;
        } catch (error) {
          failed.set(key, fields);
          firstError ??= error;
        }
      }),
    );
    if (failed.size > 0) {
      // Not lost yet: kept for the next settle or reconnection.
      this.localCounts.restore(failed);
      this.logger.warn({ err: firstError, keys: failed.size }, 'rate limits: could not add the request counts held in this process; will retry');
    }
  }
}

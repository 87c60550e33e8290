import { ROUTE_CLASSES } from '@bulkhead/config';
import { TenantAdmin } from '@bulkhead/control-plane';
import { isInfrastructureFailure } from '@bulkhead/problem';
import { Injectable } from '@nestjs/common';
import { RateLimitRedis } from './rate-limit.redis';
import { WINDOW_SECONDS } from './rate-policy';
import { countsKey, limiterKey, minuteOf, refusedField } from './request-count.keys';
import { TenantRateLimiter } from './tenant-rate-limiter';
import { RouteClassLimitView, TenantRateLimitsView } from './tenant-rate-limits.dto';

/**
 * A tenant's effective limits per route class, and where it stands in them now: one pipelined
 * read of its GCRA states and this minute's counts (five keys, all in the tenant's hash slot, one
 * round trip). What is left of an allowance is worked out against this instance's clock, not
 * Redis's, so it may be off by the clocks' skew: a view, never a decision.
 */
@Injectable()
export class TenantRateLimitsReader {
  constructor(
    private readonly tenants: TenantAdmin,
    private readonly limiter: TenantRateLimiter,
    private readonly redis: RateLimitRedis,
  ) {}

  async read(tenantId: string): Promise<TenantRateLimitsView> {
    const tenant = this.tenants.operable(await this.tenants.get(tenantId));
    const policies = this.limiter.policiesOf(tenant.id, tenant.tier);
    const nowMs = Date.now();
    const state = await this.state(tenant.id, nowMs);
    const nowUs = nowMs * 1000;
    const classes = ROUTE_CLASSES.map((routeClass, index): RouteClassLimitView => {
      const policy = policies.shared[routeClass];
      const tat = state?.tats[index];
      const ahead = tat === undefined ? undefined : Math.max(0, (tat ?? nowUs) - nowUs);
      return {
        routeClass,
        tierLimit: policies.tier[routeClass].quota,
        limit: policy.quota,
        outageLimit: policies.local[routeClass].quota,
        remaining: ahead === undefined ? null : Math.max(0, Math.floor((policy.capacityUs - ahead) / policy.intervalUs)),
        resetSeconds: ahead === undefined ? null : Math.ceil(ahead / 1_000_000),
        admittedThisMinute: state ? Number(state.counts[routeClass] ?? 0) : null,
        refusedThisMinute: state ? Number(state.counts[refusedField(routeClass)] ?? 0) : null,
      };
    });
    return { tenantId: tenant.id, tier: tenant.tier, windowSeconds: WINDOW_SECONDS, throttleFactor: policies.throttleFactor, inMemory: policies.inMemory, classes };
  }

  /** The GCRA arrival times (µs, null when idle) and this minute's counts; undefined when Redis cannot answer. */
  private async state(tenantId: string, nowMs: number): Promise<{ tats: Array<number | null>; counts: Record<string, string> } | undefined> {
    // The operators' connection (a timeout of seconds), not the decisions' (100 ms): a view may wait.
    if (this.redis.counts.status !== 'ready') return undefined;
    const pipeline = this.redis.counts.pipeline();
    for (const routeClass of ROUTE_CLASSES) pipeline.get(limiterKey(tenantId, routeClass));
    pipeline.hgetall(countsKey(tenantId, minuteOf(nowMs)));
    try {
      const replies = (await pipeline.exec()) ?? [];
      const failed = replies.find(([error]) => error);
      if (failed) throw failed[0];
      const tats = replies.slice(0, ROUTE_CLASSES.length).map(([, value]) => (typeof value === 'string' ? Number(value) : null));
      return { tats, counts: (replies[ROUTE_CLASSES.length]?.[1] ?? {}) as Record<string, string> };
    } catch (error) {
      // Redis away or slow: the configured limits are still worth showing, without the live state.
      if (isInfrastructureFailure(error)) return undefined;
      throw error;
    }
  }
}

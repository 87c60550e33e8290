import { BulkheadConfig, ROUTE_CLASSES, RouteClass, TENANT_TIERS, TenantTier } from '@bulkhead/config';

/** Every quota is per minute: `RATE_LIMIT_<TIER>` counts requests per minute. */
export const WINDOW_SECONDS = 60;
const WINDOW_US = WINDOW_SECONDS * 1_000_000;

/**
 * One quota as GCRA sees it: a request is due every `intervalUs`, and a tenant that has been
 * quiet may send the whole quota at once (the capacity is one window's worth), never more.
 */
export interface RatePolicy {
  readonly routeClass: RouteClass;
  /** Requests per window. */
  readonly quota: number;
  readonly intervalUs: number;
  readonly capacityUs: number;
  /** The `RateLimit-Policy` field value, built once. */
  readonly header: string;
}

export function ratePolicy(routeClass: RouteClass, quota: number): RatePolicy {
  const intervalUs = Math.max(1, Math.round(WINDOW_US / quota));
  return Object.freeze({
    routeClass,
    quota,
    intervalUs,
    capacityUs: intervalUs * quota,
    header: `"${routeClass}";q=${quota};w=${WINDOW_SECONDS}`,
  });
}

type PolicyTable = Readonly<Record<TenantTier, Readonly<Record<RouteClass, RatePolicy>>>>;

/**
 * The policies of every tier and class, built once from the configuration: `shared` is enforced
 * through Redis for the whole fleet; `local` is one process's share of it, enforced in memory
 * while Redis is unreachable.
 */
export class RatePolicies {
  readonly shared: PolicyTable;
  readonly local: PolicyTable;

  /** `factor` scales every quota (below 1: a throttled tenant's limits). */
  constructor(config: BulkheadConfig, factor = 1) {
    const table = (share: (quota: number) => number): PolicyTable =>
      Object.fromEntries(
        TENANT_TIERS.map((tier) => [
          tier,
          Object.fromEntries(ROUTE_CLASSES.map((routeClass) => [routeClass, ratePolicy(routeClass, share(config.rateLimits[tier][routeClass]))])),
        ]),
      ) as unknown as PolicyTable;
    this.shared = table((quota) => Math.max(1, Math.floor(quota * factor)));
    this.local = table((quota) => Math.max(1, Math.floor((quota * factor) / config.RATE_LIMIT_API_INSTANCES)));
  }
}

import { RouteClass } from '@bulkhead/config';

/**
 * Redis keys of the limiter and of the request counts. Both lead with the tenant's hash tag, so
 * one script may touch both on Redis Cluster; nothing but the verified tenant id goes in them.
 */
export function limiterKey(tenantId: string, routeClass: RouteClass): string {
  return `rl:{${tenantId}}:${routeClass}`;
}

/** The tenant's counts of the minute starting at `minute` x 60 s since the epoch. */
export function countsKey(tenantId: string, minute: number): string {
  return `rq:{${tenantId}}:${minute}`;
}

export function minuteOf(epochMs: number): number {
  return Math.floor(epochMs / 60_000);
}

/** The hash field of a refused request; an admitted one counts under the class itself. */
export function refusedField(routeClass: RouteClass): string {
  return `${routeClass}:refused`;
}

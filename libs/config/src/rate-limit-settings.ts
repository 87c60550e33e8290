import { TENANT_TIERS, TenantTier } from './tenant-tiers';

/**
 * The classes a route's rate limit is counted in. A route picks one with `@RateLimitClass` from
 * `@bulkhead/rate-limit`; an undecorated route is `read` (GET, HEAD) or `write` (any other method).
 */
export type RouteClass = 'read' | 'write' | 'export' | 'ingest';
export const ROUTE_CLASSES: readonly RouteClass[] = ['read', 'write', 'export', 'ingest'];

/** Requests per minute a tenant of the tier may send in each class. */
export type TierRateLimits = Readonly<Record<RouteClass, number>>;

export const DEFAULT_RATE_LIMITS: Readonly<Record<TenantTier, string>> = {
  free: 'read:600,write:120,export:5,ingest:60',
  pro: 'read:3000,write:600,export:30,ingest:600',
  enterprise: 'read:12000,write:3000,export:120,ingest:6000',
};

const MAX_PER_MINUTE = 6_000_000;

/** Parses one tier's `RATE_LIMIT_<TIER>` value; every class must be listed exactly once. */
export function parseTierRateLimits(setting: string, value: string): { limits?: TierRateLimits; problem?: string } {
  const limits: Partial<Record<RouteClass, number>> = {};
  for (const pair of value.split(',').map((part) => part.trim())) {
    const match = /^([a-z]+):(\d{1,7})$/.exec(pair);
    const routeClass = match?.[1] as RouteClass | undefined;
    if (!match || !routeClass || !ROUTE_CLASSES.includes(routeClass) || limits[routeClass] !== undefined) {
      return { problem: `${setting}: must list each of ${ROUTE_CLASSES.join(', ')} once as <class>:<requests per minute>, e.g. ${DEFAULT_RATE_LIMITS.free}` };
    }
    const perMinute = Number(match[2]);
    if (perMinute < 1 || perMinute > MAX_PER_MINUTE) return { problem: `${setting}: ${routeClass} must be between 1 and ${MAX_PER_MINUTE} requests per minute` };
    limits[routeClass] = perMinute;
  }
  const missing = ROUTE_CLASSES.filter((routeClass) => limits[routeClass] === undefined);
  if (missing.length) return { problem: `${setting}: missing ${missing.join(', ')} (each of ${ROUTE_CLASSES.join(', ')} must be listed)` };
  return { limits: Object.freeze(limits as Record<RouteClass, number>) };
}

export const RATE_LIMIT_SETTINGS: Readonly<Record<TenantTier, string>> = Object.fromEntries(
  TENANT_TIERS.map((tier) => [tier, `RATE_LIMIT_${tier.toUpperCase()}`]),
) as Record<TenantTier, string>;

import { RouteClass } from '@bulkhead/config';
import { SetMetadata } from '@nestjs/common';

export const RATE_LIMIT_CLASS = 'bulkhead:rate-limit-class';

/**
 * Counts a route (or every route of a controller) against the tenant's limit of this class.
 * Undecorated routes count as `read` (GET, HEAD) or `write` (any other method).
 */
export const RateLimitClass = (routeClass: RouteClass): MethodDecorator & ClassDecorator => SetMetadata(RATE_LIMIT_CLASS, routeClass);

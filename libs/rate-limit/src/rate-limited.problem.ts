import { RouteClass } from '@bulkhead/config';
import { ProblemError } from '@bulkhead/problem';

/**
 * 429: the tenant used up its allowance in a route class. `retryAfterSeconds` is also sent as
 * `Retry-After`; `violated-policies` names the `RateLimit-Policy` item that refused it (the member
 * the IETF ratelimit-headers draft defines for its quota-exceeded problem).
 */
export class RateLimitedProblem extends ProblemError {
  constructor(routeClass: RouteClass = 'read', retryAfterSeconds = 1) {
    super(429, 'rate_limited', 'Too many requests', `This tenant's ${routeClass} rate limit is used up; retry after ${retryAfterSeconds} s.`, {
      retryAfterSeconds,
      'violated-policies': [routeClass],
    });
  }
}

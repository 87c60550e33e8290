import { RouteClass } from '@bulkhead/config';
import { OPERATOR_ROUTE, PUBLIC_ROUTE } from '@bulkhead/identity';
import { ApiProblem, ApiResponseHeader } from '@bulkhead/openapi';
import { currentTenant } from '@bulkhead/tenancy';
import { CanActivate, ExecutionContext, Injectable, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { RATE_LIMIT_CLASS } from './rate-limit-class.decorator';
import { RateLimitedProblem } from './rate-limited.problem';
import { TenantRateLimiter } from './tenant-rate-limiter';

export const RATE_LIMIT_POLICY_HEADER = 'RateLimit-Policy';
export const RATE_LIMIT_HEADER = 'RateLimit';

/** A route's class, or null for routes no tenant limit applies to (public and operator routes). */
type RouteRule = RouteClass | null;

/**
 * Global, after the tenant guard (it reads the tenant context that guard establishes): every
 * tenant route takes one request from the tenant's allowance in the route's class, and answers
 * with the IETF `RateLimit-Policy` and `RateLimit` fields; over the limit it is 429 `rate_limited`
 * with `Retry-After`. The tenant comes only from the verified context: a route reached without
 * one fails (closed) rather than going unlimited.
 */
@Injectable()
@ApiProblem(RateLimitedProblem, { unless: OPERATOR_ROUTE })
@ApiResponseHeader(
  {
    name: RATE_LIMIT_POLICY_HEADER,
    description: "This route class's quota for the token's tenant (IETF draft-ietf-httpapi-ratelimit-headers), e.g. `\"read\";q=600;w=60`: 600 requests per 60 s.",
    schema: { type: 'string' },
    statuses: ['2xx', 429],
  },
  { unless: OPERATOR_ROUTE },
)
@ApiResponseHeader(
  {
    name: RATE_LIMIT_HEADER,
    description: 'What is left of it, e.g. `"read";r=599;t=1`: 599 more requests now, the whole quota back within 1 s. On a 429, `r=0` and `t` equals `Retry-After`.',
    schema: { type: 'string' },
    statuses: ['2xx', 429],
  },
  { unless: OPERATOR_ROUTE },
)
export class RateLimitGuard implements CanActivate {
  /** Per controller and handler: the metadata never changes, so it is read once. */
  private readonly rules = new Map<Function, Map<Function, RouteRule>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: TenantRateLimiter,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const routeClass = this.ruleOf(context);
    if (routeClass === null) return true;
    const tenant = currentTenant();
    const decision = await this.limiter.take(tenant.tenantId, tenant.tier, routeClass);
    const response: unknown = context.switchToHttp().getResponse();
    const adapter = this.adapterHost.httpAdapter;
    adapter.setHeader(response, RATE_LIMIT_POLICY_HEADER, decision.policy.header);
    if (decision.allowed) {
      adapter.setHeader(response, RATE_LIMIT_HEADER, `"${routeClass}";r=${decision.remaining};t=${Math.ceil(decision.resetMs / 1000)}`);
      return true;
    }
    // The draft: Retry-After never names a time before the end of the effective window.
    const retryAfterSeconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    adapter.setHeader(response, RATE_LIMIT_HEADER, `"${routeClass}";r=0;t=${retryAfterSeconds}`);
    throw new RateLimitedProblem(routeClass, retryAfterSeconds);
  }

  private ruleOf(context: ExecutionContext): RouteRule {
    const controller = context.getClass();
    const handler = context.getHandler();
    let handlers = this.rules.get(controller);
    if (!handlers) this.rules.set(controller, (handlers = new Map()));
    let rule = handlers.get(handler);
    if (rule === undefined) {
      rule = this.resolve(handler, controller);
      handlers.set(handler, rule);
    }
    return rule;
  }

  private resolve(handler: Function, controller: Function): RouteRule {
    const targets = [handler, controller];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return null;
    if (this.reflector.getAllAndOverride<boolean>(OPERATOR_ROUTE, targets)) return null;
    const declared = this.reflector.getAllAndOverride<RouteClass | undefined>(RATE_LIMIT_CLASS, targets);
    if (declared) return declared;
    const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
    return method === RequestMethod.GET || method === RequestMethod.HEAD ? 'read' : 'write';
  }
}

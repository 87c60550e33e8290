import { ApiProblem } from '@bulkhead/openapi';
import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { IdentityProviderUnavailableProblem, OperatorRequiredProblem } from './identity.errors';
import { OPERATOR_ROUTE } from './operator.decorator';
import { AuthenticatedRequest } from './principal';
import { PUBLIC_ROUTE } from './public.decorator';
import { headerCount } from './repeated-header';
import { RouteAccess } from './route-access';
import { TokenVerifier } from './token-verifier';

/** `Bearer <token>`, the scheme case-insensitive (RFC 6750 section 2.1 and RFC 9110 section 11.1). */
const BEARER = /^bearer\s+(\S+)\s*$/i;

/**
 * Global and first: every route needs a verified token unless it is explicitly `@Public()`, and an
 * `@OperatorOnly()` route needs the operator scope on a token that names no tenant.
 */
@Injectable()
@ApiProblem(OperatorRequiredProblem, { when: OPERATOR_ROUTE })
@ApiProblem(IdentityProviderUnavailableProblem, { unless: PUBLIC_ROUTE })
export class AuthenticationGuard implements CanActivate {
  constructor(
    private readonly access: RouteAccess,
    private readonly tokens: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.access.of(context);
    if (rule.public) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const token = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    if (token === undefined || sentTwice(request)) throw new UnauthorizedException('The bearer token is missing or invalid.');
    const principal = await this.tokens.verify(token);
    request.user = principal;
    if (rule.operator) {
      if (!principal.operator || principal.tenantId !== undefined) throw new OperatorRequiredProblem();
    }
    return true;
  }
}

/**
 * Two Authorization headers: Node keeps the first and drops the rest, while a proxy in front may
 * have judged (or logged) the last. Credentials that depend on who reads them are refused.
 */
function sentTwice(request: AuthenticatedRequest): boolean {
  const raw = request.raw?.rawHeaders;
  return raw !== undefined && headerCount(raw, 'authorization') > 1;
}

import { ApiProblem } from '@bulkhead/openapi';
import { ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { IdentityProviderUnavailableProblem, OperatorRequiredProblem } from './identity.errors';
import { OPERATOR_ROUTE } from './operator.decorator';
import { Principal } from './principal';
import { PUBLIC_ROUTE } from './public.decorator';

/**
 * Global and first: every route needs a verified token unless it is explicitly `@Public()`, and an
 * `@OperatorOnly()` route needs the operator scope on a token that names no tenant.
 */
@Injectable()
@ApiProblem(OperatorRequiredProblem, { when: OPERATOR_ROUTE })
@ApiProblem(IdentityProviderUnavailableProblem, { unless: PUBLIC_ROUTE })
export class AuthenticationGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    await super.canActivate(context);
    if (this.reflector.getAllAndOverride<boolean>(OPERATOR_ROUTE, targets)) {
      const principal = context.switchToHttp().getRequest<Request & { user?: Principal }>().user;
      if (!principal?.operator || principal.tenantId !== undefined) throw new OperatorRequiredProblem();
    }
    return true;
  }

  override handleRequest<TUser = Principal>(error: unknown, user: TUser | false, info?: unknown): TUser {
    if (error) throw error instanceof Error ? error : new UnauthorizedException();
    // Not the caller's fault: a 503 tells the client to retry, where a 401 would make it drop the token.
    if (info instanceof IdentityProviderUnavailableProblem) throw info;
    // The reason (expired, bad signature, unknown key...) stays out of the response on purpose.
    if (!user) throw new UnauthorizedException('The bearer token is missing or invalid.');
    return user;
  }
}

import { ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { Principal } from '../identity/principal';
import { PUBLIC_ROUTE } from './public.decorator';

/** Global and first: every route needs a verified token unless it is explicitly `@Public()`. */
@Injectable()
export class AuthenticationGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()])) return true;
    return super.canActivate(context);
  }

  override handleRequest<TUser = Principal>(error: unknown, user: TUser | false): TUser {
    if (error) throw error instanceof Error ? error : new UnauthorizedException();
    // The reason (expired, bad signature, unknown key...) stays out of the response on purpose.
    if (!user) throw new UnauthorizedException('The bearer token is missing or invalid.');
    return user;
  }
}

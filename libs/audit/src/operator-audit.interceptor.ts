import { OPERATOR_ROUTE } from '@bulkhead/identity';
import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { from, mergeMap, Observable } from 'rxjs';
import { AuditTrail } from './audit-trail';
import { currentRequestIntent } from './request-intent';

/**
 * Every operator action, reads included, is recorded in the platform chain before its answer is
 * sent (an operator route's own writes are in the control plane, not in a tenant transaction to
 * commit with; a failure to record fails the request). Tenant routes pass straight through: one
 * metadata lookup, cached per handler. Failed operator requests are recorded by `RefusalRecorder`.
 */
@Injectable()
export class OperatorAuditInterceptor implements NestInterceptor {
  private readonly operatorRoutes = new WeakMap<Function, boolean>();

  constructor(
    private readonly reflector: Reflector,
    private readonly trail: AuditTrail,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http' || !this.isOperatorRoute(context)) return next.handle();
    const request = context.switchToHttp().getRequest<{ user?: { subject: string; scopes: readonly string[] }; id?: unknown }>();
    return next.handle().pipe(
      mergeMap((value) =>
        from(
          (async () => {
            const intent = currentRequestIntent();
            await this.trail.recordPlatform([
              {
                action: intent?.action ?? 'operator',
                outcome: 'succeeded',
                actor: { kind: 'operator', subject: request.user?.subject, scopes: request.user?.scopes ?? [] },
                resource: intent ? { type: intent.resourceType, id: intent.resourceId, route: intent.route } : undefined,
                requestId: typeof request.id === 'string' ? request.id : null,
                boundary: ['token_verified', 'operator_scope', 'no_tenant_claim'],
              },
            ]);
            return value;
          })(),
        ),
      ),
    );
  }

  private isOperatorRoute(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let operator = this.operatorRoutes.get(handler);
    if (operator === undefined) {
      operator = this.reflector.getAllAndOverride<boolean>(OPERATOR_ROUTE, [handler, context.getClass()]) === true;
      this.operatorRoutes.set(handler, operator);
    }
    return operator;
  }
}

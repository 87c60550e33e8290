import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable, tap } from 'rxjs';
import { RefusalRecorder } from './refusal.recorder';
import { currentRequestIntent } from './request-intent';

/**
 * Every operator action, reads included, is recorded in the platform chain: queued when it
 * succeeds and written within 200 ms by `RefusalRecorder` (an operator route's writes are in the
 * control plane or Redis, not in a tenant transaction to commit with, and the jobs routes must
 * keep working while PostgreSQL is down). Failed operator requests are recorded the same way.
 * `AuditModule` attaches it to operator routes only: tenant routes never run it.
 */
@Injectable()
export class OperatorAuditInterceptor implements NestInterceptor {
  constructor(private readonly recorder: RefusalRecorder) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<{ user?: { subject: string; scopes: readonly string[] }; id?: unknown }>();
    return next.handle().pipe(
      tap(() => {
        const intent = currentRequestIntent();
        this.recorder.enqueueOperatorAction({
          action: intent?.action ?? 'operator',
          outcome: 'succeeded',
          actor: { kind: 'operator', subject: request.user?.subject, scopes: request.user?.scopes ?? [] },
          resource: intent ? { type: intent.resourceType, id: intent.resourceId, route: intent.route } : undefined,
          requestId: typeof request.id === 'string' ? request.id : null,
          boundary: ['token_verified', 'operator_scope', 'no_tenant_claim'],
        });
      }),
    );
  }
}

import { TenantRegistry } from '@bulkhead/control-plane';
import { isTenantId } from '@bulkhead/database';
import { tenantContextOf } from '@bulkhead/tenancy';
import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { AuditEvent } from './audit-event';
import { Observable, tap } from 'rxjs';
import { RefusalRecorder } from './refusal.recorder';
import { currentRequestIntent } from './request-intent';

/**
 * Every operator action, reads included, is recorded in the platform chain: queued when it
 * succeeds and written within 200 ms by `RefusalRecorder` (an operator route's writes are in the
 * control plane or Redis, not in a tenant transaction to commit with, and the jobs routes must
 * keep working while PostgreSQL is down). Failed operator requests are recorded the same way.
 * An action on one tenant (a route under `tenants/:id`) is also recorded in that tenant's own
 * chain, so the tenant reads in its trail what operators did to it.
 * `AuditModule` attaches it to operator routes only: tenant routes never run it.
 */
@Injectable()
export class OperatorAuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger('OperatorAudit');

  constructor(
    private readonly recorder: RefusalRecorder,
    private readonly registry: TenantRegistry,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<{ user?: { subject: string; scopes: readonly string[] }; id?: unknown }>();
    return next.handle().pipe(
      tap(() => {
        const intent = currentRequestIntent();
        const event: AuditEvent = {
          action: intent?.action ?? 'operator',
          outcome: 'succeeded',
          actor: { kind: 'operator', subject: request.user?.subject, scopes: request.user?.scopes ?? [] },
          resource: intent ? { type: intent.resourceType, id: intent.resourceId, route: intent.route } : undefined,
          requestId: typeof request.id === 'string' ? request.id : null,
          boundary: ['token_verified', 'operator_scope', 'no_tenant_claim'],
        };
        this.recorder.enqueue(undefined, event);
        if (intent?.route.includes('/tenants/:id') && intent.resourceId && isTenantId(intent.resourceId)) this.copyToTenant(intent.resourceId, event);
      }),
    );
  }

  private copyToTenant(tenantId: string, event: AuditEvent): void {
    this.registry
      .findById(tenantId)
      .then((tenant) => {
        if (tenant && tenant.status !== 'deleted') this.recorder.enqueue(tenantContextOf(tenant, 'operator'), event);
      })
      .catch((error: unknown) => this.logger.warn({ err: error, tenantId }, 'operator action not copied to the tenant trail'));
  }
}

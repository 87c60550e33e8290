import { AuditTrail } from '@bulkhead/audit';
import { TenantRepository } from '@bulkhead/control-plane';
import { Injectable } from '@nestjs/common';
import { LifecycleEvent, LifecycleEventHandler, LifecycleEventHandlerProvider } from './lifecycle-events';

/** The audit trail's part: activation becomes one entry of the tenant's chain and one of the platform's, however often it is delivered. */
@Injectable()
@LifecycleEventHandlerProvider()
export class AuditLifecycleHandler implements LifecycleEventHandler {
  readonly name = 'audit';

  constructor(
    private readonly trail: AuditTrail,
    private readonly tenants: TenantRepository,
  ) {}

  async handle(event: LifecycleEvent): Promise<void> {
    // Activation only: an offboarded tenant's chain must not grow (a restored tenant exports byte for byte as before).
    if (event.type !== 'tenant.activated') return;
    const tenant = await this.tenants.findById(event.tenantId);
    // An erased tenant has no chain left to write in.
    if (!tenant || tenant.status === 'deleted') return;
    await this.trail.recordLifecycleStep(tenant, {
      name: event.type.replace(/^tenant\./, ''),
      outcome: 'succeeded',
      actor: { kind: 'system', subject: 'lifecycle' },
      details: { eventId: event.id },
      // Delivery is at least once (a crash before the outbox marks it, another handler failing, one
      // of the two chains unreachable): keyed by the event, each chain holds its entry once.
      once: { key: `lifecycle-event:${event.id}`, at: new Date(event.occurredAt) },
    });
  }
}

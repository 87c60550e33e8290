import { currentTenant, TenantCommitHook, TenantData, TenantTransaction } from '@bulkhead/tenancy';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { AuditTrail } from './audit-trail';
import { currentRequestIntent } from './request-intent';
import { actorOf, boundaryOf, resolutionOf } from './tenant-actor';

/**
 * Every write transaction on tenant data gets an entry: before its COMMIT, unless it changed
 * nothing or already carries an explicit entry. The entry travels in the COMMIT message, so the
 * write and its entry commit together (or neither does) at no extra round trip.
 */
@Injectable()
export class AuditWriteHook implements TenantCommitHook, OnModuleInit {
  constructor(
    private readonly data: TenantData,
    private readonly trail: AuditTrail,
  ) {}

  onModuleInit(): void {
    this.data.addCommitHook(this);
  }

  async beforeCommit(tx: TenantTransaction): Promise<void> {
    if (!tx.wrote || AuditTrail.hasRecorded(tx)) return;
    const tenant = currentTenant();
    const intent = currentRequestIntent();
    await this.trail.record(tx, {
      action: intent?.action ?? (tenant.resolution?.job ? `job ${tenant.resolution.job.name}` : 'write'),
      outcome: 'committed',
      actor: actorOf(tenant),
      resource: intent
        ? { type: intent.resourceType, id: intent.resourceId, route: intent.route }
        : tenant.resolution?.job
          ? { type: 'job', id: tenant.resolution.job.id }
          : undefined,
      details: tenant.resolution?.job ? { attempt: tenant.resolution.job.attempt } : undefined,
      requestId: tenant.requestId ?? null,
      resolution: resolutionOf(tenant),
      boundary: boundaryOf(tenant),
    });
  }
}

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
      // A create names the row it made (the route has no id yet).
      resource: intent
        ? { type: intent.resourceType, id: intent.resourceId ?? tx.created[0]?.id ?? null, route: intent.route }
        : tenant.resolution?.job
          ? { type: 'job', id: tenant.resolution.job.id }
          : undefined,
      details: detailsOf(tenant.resolution?.job?.attempt, tx.created),
      requestId: tenant.requestId ?? null,
      resolution: resolutionOf(tenant),
      boundary: boundaryOf(tenant),
    });
  }
}

/** The job attempt, and every row created when there were several (the resource names the first). */
function detailsOf(attempt: number | undefined, created: TenantTransaction['created']): Record<string, unknown> | undefined {
  const details: Record<string, unknown> = {};
  if (attempt !== undefined) details.attempt = attempt;
  if (created.length > 1) details.created = created.map((row) => `${row.table}/${row.id}`);
  return Object.keys(details).length ? details : undefined;
}

import { enqueuingWriteState, JobHandler, JobHandlerProvider, NotYetVisibleError } from '@bulkhead/jobs';
import { TenantData } from '@bulkhead/tenancy';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { QuotaAlert, QuotaAlertHandler, QuotaAlertListener } from './quota-alert.listener';

export const QUOTA_ALERT_JOB = 'metering.quota-alert';

interface AlertRow {
  id: string;
  tenant_id: string;
  meter: string;
  period_start: Date;
  threshold: number;
  quota_limit: string;
  used: string;
}

/** The alert, and the transaction that wrote it (`pg_current_xact_id()`, on the tenant's server). */
export interface QuotaAlertPayload {
  alertId: string;
  xact?: string;
}

/**
 * Delivers a quota alert to every `@QuotaAlertListener()`. The job is enqueued by the crossing
 * write before it commits, so a crash after the commit cannot lose it; it runs once the alert row
 * is visible. Until then it retries, unless its transaction is known to have rolled back
 * (`enqueuingWriteState` of @bulkhead/jobs): then there is no alert to deliver, and the job ends without calling anyone.
 * At least once: the job of a crossing that rolled back, run after a later crossing of the same
 * threshold committed, finds that alert and delivers it too. Listeners key on the alert's id.
 */
@Injectable()
@JobHandlerProvider()
export class QuotaAlertJob implements JobHandler<QuotaAlertPayload>, OnApplicationBootstrap {
  readonly name = QUOTA_ALERT_JOB;
  readonly scope = 'tenant' as const;
  private listeners: QuotaAlertHandler[] = [];

  constructor(
    private readonly data: TenantData,
    private readonly discovery: DiscoveryService,
  ) {}

  onApplicationBootstrap(): void {
    this.listeners = this.discovery.getProviders({ metadataKey: QuotaAlertListener.KEY }).map((wrapper) => wrapper.instance as QuotaAlertHandler);
  }

  async handle(payload: QuotaAlertPayload): Promise<void> {
    const row = await this.data.transaction(async (tx) => {
      const find = async () =>
        (
          await tx.statement<AlertRow>('SELECT id, tenant_id, meter, period_start, threshold, quota_limit::text, used::text FROM usage_quota_alerts WHERE tenant_id = $1 AND id = $2', [
            payload.alertId,
          ])
        )[0];
      const alert = await find();
      if (alert || !payload.xact) return alert;
      const writer = await enqueuingWriteState(tx, payload.xact);
      if (writer === 'rolled_back') return null;
      // Visible now: a second look (a newer snapshot) finds the row, unless it is gone: erased
      // since, or written in a savepoint that rolled back.
      if (writer === 'committed') return (await find()) ?? null;
      return undefined;
    }, { readOnly: true });
    // Rolled back, or gone: there is no alert to deliver.
    if (row === null) return;
    if (!row) throw new NotYetVisibleError('quota alert not committed (yet)');
    const alert: QuotaAlert = {
      id: row.id,
      tenantId: row.tenant_id,
      meter: row.meter,
      periodStart: new Date(row.period_start).toISOString(),
      threshold: row.threshold as 80 | 100,
      limit: Number(row.quota_limit),
      used: Number(row.used),
    };
    for (const listener of this.listeners) await listener.onQuotaAlert(alert);
  }
}

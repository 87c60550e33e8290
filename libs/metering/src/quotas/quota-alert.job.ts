import { JobHandler, JobHandlerProvider } from '@bulkhead/jobs';
import { TenantData } from '@bulkhead/tenancy';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { QuotaAlert, QuotaAlertHandler, QuotaAlertListener } from './quota-alert.listener';

export const QUOTA_ALERT_JOB = 'metering.quota-alert';

/**
 * Delivers a quota alert to every `@QuotaAlertListener()`. The job is enqueued by the crossing
 * write before it commits (job id = the alert's id, so once per alert); it runs only once the
 * alert row is visible, and a write that rolled back leaves a job that finds no row and fails
 * after its retries without calling anyone.
 */
@Injectable()
@JobHandlerProvider()
export class QuotaAlertJob implements JobHandler<{ alertId: string }>, OnApplicationBootstrap {
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

  async handle(payload: { alertId: string }): Promise<void> {
    const [row] = await this.data.transaction(
      (tx) =>
        tx.statement<{ id: string; tenant_id: string; meter: string; period_start: Date; threshold: number; quota_limit: string; used: string }>(
          'SELECT id, tenant_id, meter, period_start, threshold, quota_limit::text, used::text FROM usage_quota_alerts WHERE tenant_id = $1 AND id = $2',
          [payload.alertId],
        ),
      { readOnly: true },
    );
    if (!row) throw new Error('quota alert not committed (yet)');
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

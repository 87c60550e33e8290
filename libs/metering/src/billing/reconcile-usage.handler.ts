import { JobHandler, JobHandlerProvider } from '@bulkhead/jobs';
import { Injectable, Logger } from '@nestjs/common';
import { UsageReconciler } from './usage-reconciler';

export const RECONCILE_USAGE_JOB = 'metering.reconcile';

/** The scheduled reconciliation: every tenant, the given billing periods. Idempotent. */
@Injectable()
@JobHandlerProvider()
export class ReconcileUsageHandler implements JobHandler<{ periods: string[] }> {
  readonly name = RECONCILE_USAGE_JOB;
  readonly scope = 'platform' as const;
  private readonly logger = new Logger('ReconcileUsageHandler');

  constructor(private readonly reconciler: UsageReconciler) {}

  async handle(payload: { periods: string[] }): Promise<void> {
    for (const period of payload.periods) {
      const { tenants: results } = await this.reconciler.reconcileAll(period);
      const drifting = results.filter((r) => r.status === 'drift').map((r) => r.tenantId);
      if (drifting.length > 0) this.logger.warn({ period, drifting }, 'usage drift: these tenants are blocked from export until acknowledged');
    }
  }
}

import { JobHandler, JobHandlerProvider } from '@bulkhead/jobs';
import { TenantData } from '@bulkhead/tenancy';
import { TenantCache } from '@bulkhead/tenant-cache';
import { Injectable } from '@nestjs/common';
import { Order } from '../orders/order.entity';
import { CustomerTotals } from './customer-totals.entity';

export const RECALCULATE_TOTALS_JOB = 'customers.recalculate-totals';
/** The cache tag of everything read from the totals: dropped once a recalculation commits. */
export const CUSTOMER_TOTALS_TAG = 'customer-totals';

/** Rebuilds the tenant's per-customer totals from its orders in one transaction: idempotent by construction. */
@JobHandlerProvider()
@Injectable()
export class RecalculateTotalsHandler implements JobHandler<Record<string, never>> {
  readonly name = RECALCULATE_TOTALS_JOB;
  readonly scope = 'tenant' as const;

  constructor(
    private readonly data: TenantData,
    private readonly cache: TenantCache,
  ) {}

  async handle(): Promise<void> {
    await this.data.transaction(async (tx) => {
      // One recalculation of a tenant at a time: two at once each delete the rows the other has
      // not committed yet and then collide on its inserts (a unique violation, an attempt spent).
      // Waited for, not skipped: the later one must see the orders committed since the earlier began.
      await tx.statement("SELECT pg_advisory_xact_lock(hashtextextended($1::text || ':customers.recalculate-totals', 0))");
      const sums = await tx
        .repository(Order)
        .aggregate<{ customer_id: string; order_count: string; total_cents: string }>((query) =>
          query
            .select('e.customer_id', 'customer_id')
            .addSelect('count(*)', 'order_count')
            .addSelect('sum(e.total_cents)', 'total_cents')
            .groupBy('e.customer_id'),
        );
      const totals = tx.repository(CustomerTotals);
      await totals.deleteWhere({});
      await totals.insertMany(
        sums.map((row) => ({ id: row.customer_id, orderCount: Number(row.order_count), totalCents: Number(row.total_cents) })),
      );
    });
    // After the commit: a reader that loaded between the two holds a version the bump makes stale.
    // If Redis cannot be told, the job fails and is retried (the recalculation is idempotent).
    await this.cache.invalidateTag(CUSTOMER_TOTALS_TAG);
  }
}

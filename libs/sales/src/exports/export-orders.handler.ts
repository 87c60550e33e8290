import { enqueuingWriteState, JobHandler, JobHandlerProvider, NotYetVisibleError } from '@bulkhead/jobs';
import { TenantData } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { Order } from '../orders/order.entity';
import { OrderExportContent } from './order-export-content.entity';
import { OrderExport } from './order-export.entity';
import { EXPORT_ORDERS_JOB, ExportOrdersPayload } from './order-exports.service';

const PAGE = 1000;
const HEADER = 'id,customer_id,status,total_cents,currency,created_at';
/** What the tenant reads on a failed export; the internal error stays in the worker's log. */
const EXPORT_FAILED_REASON = 'The export could not be produced after several attempts; request a new one.';

/** Quotes a CSV field when it needs it, and defuses spreadsheet formulas. */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * Writes the tenant's orders as CSV into its export row. Runs inside the job's tenant context, in
 * one REPEATABLE READ transaction (every page from one snapshot) that locks the export row first:
 * a second delivery of the same job waits, then finds the export completed and changes nothing.
 * A job whose recording transaction rolled back finds no row and ends without writing.
 */
@JobHandlerProvider()
@Injectable()
export class ExportOrdersHandler implements JobHandler<ExportOrdersPayload> {
  readonly name = EXPORT_ORDERS_JOB;
  readonly scope = 'tenant' as const;

  constructor(private readonly data: TenantData) {}

  async handle(payload: ExportOrdersPayload): Promise<void> {
    await this.data.transaction(async (tx) => {
      const exports = tx.repository(OrderExport);
      const row = await exports.findByIdForUpdate(payload.exportId);
      if (!row) {
        // Enqueued before its row commits: not there yet means wait, unless its transaction rolled
        // back (or committed without it, in this snapshot): then it never comes and the job is done.
        if (payload.writer && (await enqueuingWriteState(tx, payload.writer)) !== 'undecided') return;
        throw new NotYetVisibleError(`export ${payload.exportId} is not recorded yet`);
      }
      if (row.status === 'completed') return;
      const lines = [HEADER];
      let after: string | undefined;
      for (;;) {
        const page = await tx.repository(Order).findPage({ after, limit: PAGE });
        for (const order of page) {
          lines.push(
            [order.id, order.customerId, order.status, String(order.totalCents), order.currency, new Date(order.createdAt).toISOString()]
              .map(csvField)
              .join(','),
          );
        }
        if (page.length < PAGE) break;
        after = page[page.length - 1].id;
      }
      await tx.repository(OrderExportContent).update(row.id, { content: lines.join('\n') + '\n' });
      await exports.update(row.id, { status: 'completed', rowCount: lines.length - 1, completedAt: () => 'now()' });
    }, { isolationLevel: 'REPEATABLE READ' });
  }

  /** The job failed for good: the export says so instead of staying pending. Idempotent; a completed export stays completed. */
  async onFinalFailure(payload: { exportId: string }): Promise<void> {
    await this.data.transaction(async (tx) => {
      const rows = tx.repository(OrderExport);
      const row = await rows.findByIdForUpdate(payload.exportId);
      if (row?.status === 'pending') await rows.update(row.id, { status: 'failed', failureReason: EXPORT_FAILED_REASON });
    });
  }
}

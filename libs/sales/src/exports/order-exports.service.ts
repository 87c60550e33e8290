import { enqueuingWrite, TenantJobs } from '@bulkhead/jobs';
import { UsageRecorder } from '@bulkhead/metering';
import { currentTenant, TenantData } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { ExportNotFoundProblem, ExportNotReadyProblem } from '../sales.errors';
import { OrderExportContent } from './order-export-content.entity';
import { OrderExport } from './order-export.entity';
import { EXPORTS_REQUESTED } from '../sales.meters';

export const EXPORT_ORDERS_JOB = 'orders.export';

/** The export, and the transaction that records it (`enqueuingWrite`; absent in jobs enqueued before it was carried). */
export interface ExportOrdersPayload {
  exportId: string;
  writer?: string;
}

@Injectable()
export class OrderExportsService {
  constructor(
    private readonly data: TenantData,
    private readonly jobs: TenantJobs,
    private readonly usage: UsageRecorder,
  ) {}

  /**
   * Enqueues the job from inside the transaction that records the export, before its row: a
   * refused enqueue (backlog full) rolls the transaction back, so nothing is written; a crash after
   * the commit cannot lose the job. The job is told which transaction writes its row
   * (`enqueuingWrite`): one that runs before the commit waits, spending no attempt, and one whose
   * transaction rolled back (a quota race refused by the check in the transaction, which is the one
   * that holds under concurrency; a crash) ends as soon as it runs, without writing and without
   * holding its tenant's slot (it used to wait JOBS_UNCOMMITTED_WAIT_MS). Its job id carries the
   * transaction id: a transaction run again whole (a move's fence) enqueues a job of its own. The
   * export's usage event commits with its row; the quota is checked before the transaction too, so
   * a tenant past it gets 429 at once.
   */
  async request(): Promise<OrderExport> {
    await this.usage.assertWithinQuota(EXPORTS_REQUESTED.name);
    const id = uuidv7();
    return this.data.transaction(async (tx) => {
      const writer = await enqueuingWrite(tx);
      await this.jobs.enqueue(EXPORT_ORDERS_JOB, { exportId: id, writer } satisfies ExportOrdersPayload, { jobId: `${id}-${writer}` });
      const requested = await tx.repository(OrderExport).insert({ id, status: 'pending', requestedBy: currentTenant().userId });
      await this.usage.record(tx, EXPORTS_REQUESTED.name, { key: `${EXPORTS_REQUESTED.name}:${id}`, at: requested.createdAt, subject: id });
      return requested;
    });
  }

  async get(id: string): Promise<OrderExport> {
    const found = await this.data.read(OrderExport).findById(id);
    if (!found) throw new ExportNotFoundProblem();
    return found;
  }

  async content(id: string): Promise<string> {
    const found = await this.get(id);
    if (found.status !== 'completed') throw new ExportNotReadyProblem();
    const body = await this.data.read(OrderExportContent).findById(id);
    if (!body || body.content === null) throw new ExportNotReadyProblem();
    return body.content;
  }
}

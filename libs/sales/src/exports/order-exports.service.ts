import { TenantJobs } from '@bulkhead/jobs';
import { UsageRecorder } from '@bulkhead/metering';
import { currentTenant, TenantData } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { ExportNotFoundProblem, ExportNotReadyProblem } from '../sales.errors';
import { OrderExportContent } from './order-export-content.entity';
import { OrderExport } from './order-export.entity';
import { EXPORTS_REQUESTED } from '../sales.meters';

export const EXPORT_ORDERS_JOB = 'orders.export';

@Injectable()
export class OrderExportsService {
  constructor(
    private readonly data: TenantData,
    private readonly jobs: TenantJobs,
    private readonly usage: UsageRecorder,
  ) {}

  /**
   * Enqueues the job first (its id is the export's id, so it is idempotent), then records the
   * export. A refused enqueue (backlog full) therefore writes nothing; a job that runs before the
   * row commits finds no row and is retried. The export's usage event commits with its row; the
   * quota is checked before the enqueue too, so a tenant past it gets 429 without leaving a job
   * behind (the check in the transaction is the one that holds under concurrency). Requests racing
   * at the limit can pass the first check and be refused by the second: their jobs find no row,
   * are retried, and end failed without writing anything.
   */
  async request(): Promise<OrderExport> {
    await this.usage.assertWithinQuota(EXPORTS_REQUESTED.name);
    const id = uuidv7();
    await this.jobs.enqueue(EXPORT_ORDERS_JOB, { exportId: id }, { jobId: id });
    return this.data.transaction(async (tx) => {
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

import { JobBacklogFullProblem, JobsUnavailableProblem, TenantJobs } from '@bulkhead/jobs';
import { ApiProblem } from '@bulkhead/openapi';
import { TenantData } from '@bulkhead/tenancy';
import { TenantCache } from '@bulkhead/tenant-cache';
import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { pageOf, PageQuery } from '@bulkhead/domain-kit';
import { CustomerTotals } from './customer-totals.entity';
import { CustomerTotalsPage, JobAcceptedView } from './customer-totals.view';
import { CUSTOMER_TOTALS_TAG, RECALCULATE_TOTALS_JOB } from './recalculate-totals.handler';

const CUSTOMER_TOTALS_TTL_MS = 300_000;

@ApiTags('customers')
@ApiBearerAuth()
@Controller('v1/customer-totals')
export class CustomerTotalsController {
  constructor(
    private readonly data: TenantData,
    private readonly jobs: TenantJobs,
    private readonly cache: TenantCache,
  ) {}

  @Post('recalculate')
  @HttpCode(202)
  @ApiOperation({ summary: 'Recalculate per-customer order totals in the background' })
  @ApiAcceptedResponse({ type: JobAcceptedView })
  @ApiProblem(JobBacklogFullProblem)
  @ApiProblem(JobsUnavailableProblem)
  async recalculate(): Promise<{ jobId: string; duplicate: boolean }> {
    // No fixed job id: BullMQ keeps finished jobs for a while and would swallow a later request
    // reusing it. Each request is its own job; the handler is idempotent.
    return this.jobs.enqueue(RECALCULATE_TOTALS_JOB, {});
  }

  @Get()
  @ApiOkResponse({ type: CustomerTotalsPage })
  async list(@Query() query: PageQuery) {
    const limit = query.limit ?? 20;
    const load = async () => {
      const rows = await this.data.read(CustomerTotals).findPage({ after: query.after, limit });
      return pageOf(rows, limit, (row) => ({
        customerId: row.id,
        orderCount: row.orderCount,
        totalCents: row.totalCents,
        recalculatedAt: new Date(row.recalculatedAt).toISOString(),
      }));
    };
    // The first page is what dashboards poll; it changes only when the job recalculates (which invalidates the tag).
    if (query.after !== undefined) return load();
    return this.cache.getOrLoad(`customer-totals:first:${limit}`, load, { ttlMs: CUSTOMER_TOTALS_TTL_MS, tags: [CUSTOMER_TOTALS_TAG] });
  }
}

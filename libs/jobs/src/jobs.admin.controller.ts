import { BulkheadConfig } from '@bulkhead/config';
import { ParseIdPipe } from '@bulkhead/domain-kit';
import { TenantErasedProblem, TenantRegistry } from '@bulkhead/control-plane';
import { FairQueue, TenantPolicy } from '@bulkhead/fair-queue';
import { OperatorOnly } from '@bulkhead/identity';
import { ApiProblem } from '@bulkhead/openapi';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { JobPolicyDto } from './jobs.admin.dto';
import { FAIR_QUEUE } from './jobs.constants';
import { JobsOverview } from './jobs-overview';

/** The operator's view of background work: backlog, in flight and oldest wait per tenant. */
@ApiTags('admin')
@ApiBearerAuth()
@OperatorOnly()
@Controller('v1/admin/jobs')
export class JobsAdminController {
  constructor(
    @Inject(FAIR_QUEUE) private readonly queue: FairQueue,
    private readonly jobs: JobsOverview,
    private readonly registry: TenantRegistry,
    private readonly config: BulkheadConfig,
  ) {}

  @Get()
  @ApiOperation({
    summary: "Fair-queue totals, each BullMQ queue's raw job counts by state (waiting, active, delayed, prioritized, waiting-children, paused, completed, failed), and the 100 most backlogged tenants",
    description: 'Jobs buffered in the fair queue per tenant are not in BullMQ yet: they count in the totals (backlog), not in the queue states.',
  })
  async overview() {
    const [totals, queues, tenants] = await Promise.all([this.queue.stats(), this.jobs.queues(), this.queue.backloggedTenants(100)]);
    return { totals, queues, tenants: await Promise.all(tenants.map((tenant) => this.queue.tenantStats(tenant))) };
  }

  @Get('tenants/:id')
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @ApiProblem(new TenantErasedProblem())
  async tenant(@Param('id', new ParseIdPipe()) id: string) {
    await this.registry.assertOperable(id);
    return this.queue.tenantStats(id);
  }

  @Put('tenants/:id/policy')
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @ApiProblem(new TenantErasedProblem())
  @ApiOperation({ summary: "Override a tenant's weight, concurrency cap, rate limit or backlog limit" })
  async setPolicy(@Param('id', new ParseIdPipe()) id: string, @Body() body: JobPolicyDto) {
    await this.registry.assertOperable(id);
    const patch = Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined)) as Partial<TenantPolicy>;
    await this.queue.setPolicy(id, patch);
    return this.queue.tenantStats(id);
  }

  @Delete('tenants/:id/policy')
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @ApiProblem(new TenantErasedProblem())
  @ApiOperation({ summary: "Drop the overrides: the tenant follows its tier's weight again at once" })
  async clearPolicy(@Param('id', new ParseIdPipe()) id: string) {
    await this.registry.assertOperable(id);
    await this.queue.clearPolicy(id);
    // Clearing drops the tier's weight too, and an API that applied it in the last minute would
    // not apply it again before its cache forgets: put it back now.
    const tenant = await this.registry.findById(id);
    if (tenant) await this.queue.setPolicyDefaults(id, { weight: this.config.jobsTierWeights[tenant.tier] });
    return this.queue.tenantStats(id);
  }

  @Post('tenants/:id/pause')
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @ApiProblem(new TenantErasedProblem())
  @HttpCode(200)
  async pause(@Param('id', new ParseIdPipe()) id: string) {
    await this.registry.assertOperable(id);
    await this.queue.pause(id);
    return this.queue.tenantStats(id);
  }

  @Post('tenants/:id/resume')
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @ApiProblem(new TenantErasedProblem())
  @HttpCode(200)
  async resume(@Param('id', new ParseIdPipe()) id: string) {
    await this.registry.assertOperable(id);
    await this.queue.resume(id);
    return this.queue.tenantStats(id);
  }
}

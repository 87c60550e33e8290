import { TenantNotFoundProblem, TenantRegistry } from '@bulkhead/control-plane';
import { FairQueue, TenantPolicy } from '@bulkhead/fair-queue';
import { OperatorOnly } from '@bulkhead/identity';
import { ApiProblem } from '@bulkhead/openapi';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Put } from '@nestjs/common';
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
  async tenant(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.queue.tenantStats(await this.tenantId(id));
  }

  @Put('tenants/:id/policy')
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @ApiOperation({ summary: "Override a tenant's weight, concurrency cap, rate limit or backlog limit" })
  async setPolicy(@Param('id', new ParseUUIDPipe()) named: string, @Body() body: JobPolicyDto) {
    const id = await this.tenantId(named);
    const patch = Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined)) as Partial<TenantPolicy>;
    await this.queue.setPolicy(id, patch);
    return this.queue.tenantStats(id);
  }

  @Delete('tenants/:id/policy')
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @ApiOperation({ summary: 'Drop the overrides: the tenant follows its tier again from its next job' })
  async clearPolicy(@Param('id', new ParseUUIDPipe()) named: string) {
    const id = await this.tenantId(named);
    await this.queue.clearPolicy(id);
    return this.queue.tenantStats(id);
  }

  @Post('tenants/:id/pause')
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @HttpCode(200)
  async pause(@Param('id', new ParseUUIDPipe()) named: string) {
    const id = await this.tenantId(named);
    await this.queue.pause(id);
    return this.queue.tenantStats(id);
  }

  @Post('tenants/:id/resume')
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @HttpCode(200)
  async resume(@Param('id', new ParseUUIDPipe()) named: string) {
    const id = await this.tenantId(named);
    await this.queue.resume(id);
    return this.queue.tenantStats(id);
  }

  /**
   * The tenant's id as the queue keys it (lower case: an upper-case id used to set a policy, or a
   * pause, that no job ever read, and answer 200), and 404 for a tenant the registry does not
   * have. These routes need only Redis, so that an operator can hold or release work during a
   * database outage: a registry that cannot be read refuses nothing.
   */
  private async tenantId(named: string): Promise<string> {
    const id = named.toLowerCase();
    if (await this.registry.isUnknown(id)) throw new TenantNotFoundProblem();
    return id;
  }
}

import { ParseIdPipe } from '@bulkhead/domain-kit';
import { OperatorOnly } from '@bulkhead/identity';
import { ApiProblem } from '@bulkhead/openapi';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { MeterNotFoundProblem, TenantUsageUnavailableProblem, UsageRangeInvalidProblem } from '../metering.errors';
import { AdminUsagePage, AdminUsageQuery } from '../query/usage-query.dto';
import { UsageReportService } from '../query/usage-report.service';
import { FleetUsageService } from './fleet-usage.service';
import { TenantQuotaUsageView } from './tenant-quota.dto';
import { TenantQuotaUsageService } from './tenant-quota-usage.service';

@ApiTags('admin')
@ApiBearerAuth()
@OperatorOnly()
@Controller('v1/admin/usage')
export class UsageAdminController {
  constructor(
    private readonly reports: UsageReportService,
    private readonly fleet: FleetUsageService,
    private readonly quotas: TenantQuotaUsageService,
  ) {}

  @Get()
  @ApiOperation({
    summary: "Every tenant's total of one meter over a range, whatever its isolation model and cluster (cursor pagination over tenants)",
    description: "Assembled from one scoped query per tenant, run in that tenant's context against its own placement.",
  })
  @ApiOkResponse({ type: AdminUsagePage })
  @ApiProblem(MeterNotFoundProblem)
  @ApiProblem(UsageRangeInvalidProblem)
  async list(@Query() query: AdminUsageQuery): Promise<AdminUsagePage> {
    const meter = this.reports.meterOf(query.meter);
    const granularity = query.granularity ?? 'day';
    const range = this.reports.rangeOf(query.from, query.to, granularity);
    const page = await this.fleet.page(meter, granularity, range, { after: query.after, limit: query.limit ?? 20 });
    return { meter: meter.name, ...page };
  }

  @Get('tenants/:id')
  @ApiOperation({
    summary: "One tenant's usage of every meter this period against its plan's quotas: used, the quota, the share used, and whether it is blocked or over",
    description: "Read in the tenant's context from its own placement, exact as of the last committed write. Periods are UTC days or months, as the quota counts them.",
  })
  @ApiOkResponse({ type: TenantQuotaUsageView })
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @ApiProblem(new TenantUsageUnavailableProblem('provisioning'))
  tenant(@Param('id', new ParseIdPipe()) id: string): Promise<TenantQuotaUsageView> {
    return this.quotas.of(id);
  }
}

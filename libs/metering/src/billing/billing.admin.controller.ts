import { ParseIdPipe } from '@bulkhead/domain-kit';
import { TenantRecord, TenantRepository } from '@bulkhead/control-plane';
import { OperatorOnly } from '@bulkhead/identity';
import { ApiProblem } from '@bulkhead/openapi';
import { runWithTenant, tenantContextOf } from '@bulkhead/tenancy';
import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { hasData } from '../admin/fleet-usage.service';
import { BillingExportService, toCsv, toJsonLines } from './billing-export.service';
import { AcknowledgeDriftDto, AcknowledgedView, BillingExportDto, BillingExportView, BillingPageDto, BillingPeriodDto, BillingSendReport, BillingTenantExportDto, ReconciliationReport } from './billing.dto';
import { BillingNotConfiguredProblem, BillingTenantNotFoundProblem } from './billing.errors';
import { StripeMeterEventSender } from './stripe-meter-event.sender';
import { UsageReconciler } from './usage-reconciler';

@ApiTags('admin')
@ApiBearerAuth()
@OperatorOnly()
@Controller('v1/admin/billing')
export class BillingAdminController {
  constructor(
    private readonly reconciler: UsageReconciler,
    private readonly exports: BillingExportService,
    private readonly sender: StripeMeterEventSender,
    private readonly tenants: TenantRepository,
  ) {}

  @Post('reconciliations')
  @HttpCode(200)
  @ApiOperation({ summary: "Reconcile every tenant's meters for a period against the event log and the source of truth; drift blocks that tenant's export" })
  @ApiOkResponse({ type: ReconciliationReport })
  async reconcile(@Body() body: BillingPageDto): Promise<ReconciliationReport> {
    return { period: body.period, ...(await this.reconciler.reconcileAll(body.period, { after: body.after, limit: body.limit ?? 20 })) };
  }

  @Post('exports')
  @HttpCode(200)
  @ApiOperation({ summary: "A period's meter events of every tenant without drift: Stripe v2 meter events as JSON lines, or CSV; idempotent" })
  @ApiOkResponse({ type: BillingExportView })
  async export(@Body() body: BillingExportDto): Promise<BillingExportView> {
    const format = body.format ?? 'jsonl';
    const { exports, next } = await this.exports.exportPeriod(body.period, { after: body.after, limit: body.limit ?? 20 });
    return {
      period: body.period,
      next,
      format,
      tenants: exports.map((e) => ({ tenantId: e.tenantId, slug: e.slug, status: e.status, events: e.events.length })),
      content: format === 'csv' ? toCsv(exports) : toJsonLines(exports),
    };
  }

  @Post('sends')
  @HttpCode(200)
  @ApiOperation({ summary: "Send a period's meter events to Stripe; a re-run sends only events never acknowledged" })
  @ApiOkResponse({ type: BillingSendReport })
  @ApiProblem(BillingNotConfiguredProblem)
  async send(@Body() body: BillingPageDto): Promise<BillingSendReport> {
    return { period: body.period, ...(await this.sender.send(body.period, { after: body.after, limit: body.limit ?? 20 })) };
  }

  @Post('tenants/:id/exports')
  @HttpCode(200)
  @ApiOperation({ summary: "One tenant's meter events of a period (reconciled first; blocked on drift), as JSON lines or CSV" })
  @ApiOkResponse({ type: BillingExportView })
  @ApiProblem(BillingTenantNotFoundProblem)
  async exportTenant(@Param('id', new ParseIdPipe()) id: string, @Body() body: BillingTenantExportDto): Promise<BillingExportView> {
    await this.placedTenant(id);
    const format = body.format ?? 'jsonl';
    const { exports } = await this.exports.exportPeriod(body.period, { tenantId: id });
    return {
      period: body.period,
      next: null,
      format,
      tenants: exports.map((e) => ({ tenantId: e.tenantId, slug: e.slug, status: e.status, events: e.events.length })),
      content: format === 'csv' ? toCsv(exports) : toJsonLines(exports),
    };
  }

  @Post('tenants/:id/sends')
  @HttpCode(200)
  @ApiOperation({ summary: "Send one tenant's meter events of a period to Stripe; a re-run sends only events never acknowledged" })
  @ApiOkResponse({ type: BillingSendReport })
  @ApiProblem(BillingTenantNotFoundProblem)
  @ApiProblem(BillingNotConfiguredProblem)
  async sendTenant(@Param('id', new ParseIdPipe()) id: string, @Body() body: BillingPeriodDto): Promise<BillingSendReport> {
    await this.placedTenant(id);
    return { period: body.period, ...(await this.sender.send(body.period, { tenantId: id })) };
  }

  @Post('tenants/:id/acknowledge')
  @HttpCode(200)
  @ApiOperation({ summary: "Acknowledge a tenant's drift for a period, unblocking its export (until the numbers change); safe to repeat (0 when nothing drifts)" })
  @ApiOkResponse({ type: AcknowledgedView })
  @ApiProblem(BillingTenantNotFoundProblem)
  async acknowledge(@Param('id', new ParseIdPipe()) id: string, @Body() body: AcknowledgeDriftDto): Promise<AcknowledgedView> {
    const tenant = await this.placedTenant(id);
    const acknowledged = await runWithTenant(tenantContextOf(tenant, 'operator'), () => this.reconciler.acknowledgeCurrent(body.period, 'operator', body.note));
    return { tenantId: id, period: body.period, acknowledged };
  }

  private async placedTenant(id: string): Promise<TenantRecord> {
    const tenant = await this.tenants.findById(id);
    if (!tenant || !hasData(tenant)) throw new BillingTenantNotFoundProblem();
    return tenant;
  }
}

import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { FleetUsageService } from './admin/fleet-usage.service';
import { TenantQuotaUsageService } from './admin/tenant-quota-usage.service';
import { UsageAdminController } from './admin/usage.admin.controller';
import { UsageEventsController } from './ingest/usage-events.controller';
import { UsageIngestService } from './ingest/usage-ingest.service';
import { MeterCatalog } from './meters/meter.catalog';
import { UsageController } from './query/usage.controller';
import { UsageReportService } from './query/usage-report.service';
import { PlanCatalog } from './quotas/plan.catalog';
import { UsageRecorder } from './usage/usage.recorder';
import { QuotaAlertJob } from './quotas/quota-alert.job';
import { UsageWriter } from './usage/usage.writer';
import { BillingAdminController } from './billing/billing.admin.controller';
import { BillingExportService } from './billing/billing-export.service';
import { ReconcileUsageHandler } from './billing/reconcile-usage.handler';
import { StripeMeterEventSender } from './billing/stripe-meter-event.sender';
import { UsageReconciler } from './billing/usage-reconciler';

/** Global, so a domain's services can take `UsageRecorder` without importing this module. */
@Global()
@Module({
  imports: [DiscoveryModule],
  controllers: [UsageEventsController, UsageController, UsageAdminController, BillingAdminController],
  providers: [MeterCatalog, PlanCatalog, UsageWriter, UsageRecorder, UsageIngestService, UsageReportService, FleetUsageService, TenantQuotaUsageService, UsageReconciler, BillingExportService, StripeMeterEventSender, ReconcileUsageHandler, QuotaAlertJob],
  exports: [MeterCatalog, PlanCatalog, UsageRecorder, UsageReportService, UsageReconciler, BillingExportService, StripeMeterEventSender],
})
export class MeteringModule {}

import { TenantCacheModule } from '@bulkhead/tenant-cache';
import { Module } from '@nestjs/common';
import { CustomersController } from './customers/customers.controller';
import { Customer } from './customers/customer.entity';
import { CustomersService } from './customers/customers.service';
import { ExportOrdersHandler } from './exports/export-orders.handler';
import { OrderExportContent } from './exports/order-export-content.entity';
import { OrderExport } from './exports/order-export.entity';
import { OrderExportsController } from './exports/order-exports.controller';
import { OrderExportsService } from './exports/order-exports.service';
import { OrdersController } from './orders/orders.controller';
import { Order } from './orders/order.entity';
import { OrdersService } from './orders/orders.service';
import { CustomerTotals } from './totals/customer-totals.entity';
import { CustomerTotalsController } from './totals/customer-totals.controller';
import { RecalculateTotalsHandler } from './totals/recalculate-totals.handler';
import { SalesMeters } from './sales.meters';

/** The tables this domain maps; declared to the platform by SALES_DOMAIN. */
export const SALES_ENTITIES = [Customer, Order, OrderExport, OrderExportContent, CustomerTotals];

/** Needs JobsModule (global) for TenantJobs; its job handlers are discovered by the worker. Brings the tenant cache (customer totals) wherever it runs (API, worker, CLI). */
@Module({
  imports: [TenantCacheModule],
  controllers: [CustomersController, OrdersController, OrderExportsController, CustomerTotalsController],
  providers: [SalesMeters, CustomersService, OrdersService, OrderExportsService, ExportOrdersHandler, RecalculateTotalsHandler],
  exports: [CustomersService, OrdersService, OrderExportsService],
})
export class SalesModule {}

import { Module } from '@nestjs/common';
import { ApiModule } from '../../apps/api/src/api.module';
import { UnscopedControlModule } from '../control/unscoped-control.module';
import {
  ContextTenantController,
  ContextTenantOrders,
  RequestScopedController,
  RequestScopedOrders,
  RequestScopedTenant,
} from './bench-routes';

/** The production API, the unscoped control, and the same read behind two kinds of tenant provider. */
@Module({
  imports: [ApiModule, UnscopedControlModule],
  controllers: [RequestScopedController, ContextTenantController],
  providers: [RequestScopedTenant, RequestScopedOrders, ContextTenantOrders],
})
export class ScopingBenchModule {}

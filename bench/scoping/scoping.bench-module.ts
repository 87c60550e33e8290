import { BulkheadConfig } from '@bulkhead/config';
import { SALES_ENTITIES } from '@bulkhead/sales';
import { Module, OnApplicationShutdown, Inject } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiModule } from '../../apps/api/src/api.module';
import {
  CONTROL_DATA_SOURCE,
  ContextTenantController,
  ContextTenantOrders,
  ControlController,
  RequestScopedController,
  RequestScopedOrders,
  RequestScopedTenant,
} from './bench-routes';

class ControlDataSourceCloser implements OnApplicationShutdown {
  constructor(@Inject(CONTROL_DATA_SOURCE) private readonly dataSource: DataSource) {}
  async onApplicationShutdown() {
    await this.dataSource.destroy();
  }
}

/** The production API plus the benchmark's comparison routes. */
@Module({
  imports: [ApiModule],
  controllers: [ControlController, RequestScopedController, ContextTenantController],
  providers: [
    {
      provide: CONTROL_DATA_SOURCE,
      inject: [BulkheadConfig],
      useFactory: async (config: BulkheadConfig) => {
        const url = new URL(config.DATABASE_ADMIN_URL);
        url.pathname = new URL(config.DATABASE_URL).pathname;
        const dataSource = new DataSource({ type: 'postgres', url: url.toString(), entities: SALES_ENTITIES, extra: { max: config.DATABASE_POOL_MAX } });
        return dataSource.initialize();
      },
    },
    ControlDataSourceCloser,
    RequestScopedTenant,
    RequestScopedOrders,
    ContextTenantOrders,
  ],
})
export class ScopingBenchModule {}

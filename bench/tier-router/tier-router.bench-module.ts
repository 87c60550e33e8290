import { BulkheadConfig } from '@bulkhead/config';
import { Order, SALES_ENTITIES } from '@bulkhead/sales';
import { Public } from '@bulkhead/tenancy';
import { Controller, Get, Inject, Module, NotFoundException, OnApplicationShutdown, Param, Query } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiModule } from '../../apps/api/src/api.module';

export const ROUTER_CONTROL_DATA_SOURCE = Symbol('bench.tier-router.control-data-source');

/**
 * The unscoped control for the tier-router scenario: the same TypeORM query as GET /v1/orders/:id
 * on the pool tenant's rows, through a superuser pool (no RLS), with no guard, no tenant
 * resolution, no router and no tenant settings. The same shape as bench/scoping's control, kept
 * here so the two scenarios can evolve independently.
 */
@Controller('bench/router-control')
export class RouterControlController {
  constructor(@Inject(ROUTER_CONTROL_DATA_SOURCE) private readonly dataSource: DataSource) {}

  @Public()
  @Get('orders/:id')
  async get(@Param('id') id: string, @Query('tenant') tenantId: string) {
    const order = await this.dataSource.manager.findOne(Order, { where: { tenantId, id } });
    if (!order) throw new NotFoundException();
    return order;
  }

  @Public()
  @Get('orders')
  list(@Query('tenant') tenantId: string) {
    return this.dataSource.manager.find(Order, { where: { tenantId }, order: { id: 'ASC' }, take: 20 });
  }
}

class RouterControlCloser implements OnApplicationShutdown {
  constructor(@Inject(ROUTER_CONTROL_DATA_SOURCE) private readonly dataSource: DataSource) {}
  async onApplicationShutdown() {
    await this.dataSource.destroy();
  }
}

/** The production API plus the unscoped control route. */
@Module({
  imports: [ApiModule],
  controllers: [RouterControlController],
  providers: [
    {
      provide: ROUTER_CONTROL_DATA_SOURCE,
      inject: [BulkheadConfig],
      useFactory: async (config: BulkheadConfig) => {
        const url = new URL(config.DATABASE_ADMIN_URL);
        url.pathname = new URL(config.DATABASE_URL).pathname;
        const dataSource = new DataSource({ type: 'postgres', url: url.toString(), entities: SALES_ENTITIES, extra: { max: config.DATABASE_POOL_MAX } });
        return dataSource.initialize();
      },
    },
    RouterControlCloser,
  ],
})
export class TierRouterBenchModule {}

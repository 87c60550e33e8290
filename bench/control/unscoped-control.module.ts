import { BulkheadConfig } from '@bulkhead/config';
import { Public } from '@bulkhead/identity';
import { Order, SALES_DOMAIN } from '@bulkhead/sales';
import { Controller, Get, Inject, Injectable, Module, NotFoundException, OnApplicationShutdown, Param, Query } from '@nestjs/common';
import { DataSource } from 'typeorm';

const CONTROL_DATA_SOURCE = Symbol('bench.control-data-source');

/**
 * The unscoped control every benchmark compares against: the same TypeORM query as
 * GET /v1/orders/:id and the list route, through a superuser pool (RLS does not apply), with no
 * guard, no tenant context, no router and no transaction.
 */
@Controller('bench/control')
export class ControlController {
  constructor(@Inject(CONTROL_DATA_SOURCE) private readonly dataSource: DataSource) {}

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

@Injectable()
class ControlDataSourceCloser implements OnApplicationShutdown {
  constructor(@Inject(CONTROL_DATA_SOURCE) private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    await this.dataSource.destroy();
  }
}

@Module({
  controllers: [ControlController],
  providers: [
    {
      provide: CONTROL_DATA_SOURCE,
      inject: [BulkheadConfig],
      useFactory: async (config: BulkheadConfig) => {
        const url = new URL(config.DATABASE_ADMIN_URL);
        url.pathname = new URL(config.DATABASE_URL).pathname;
        const dataSource = new DataSource({ type: 'postgres', url: url.toString(), entities: SALES_DOMAIN.entities, extra: { max: config.DATABASE_POOL_MAX } });
        return dataSource.initialize();
      },
    },
    ControlDataSourceCloser,
  ],
})
export class UnscopedControlModule {}

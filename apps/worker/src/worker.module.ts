import { ConfigModule } from '@bulkhead/config';
import { LoggingModule } from '@bulkhead/observability';
import { SALES_ENTITIES } from '@bulkhead/sales';
import { TenancyModule } from '@bulkhead/tenancy';
import { Module } from '@nestjs/common';

@Module({
  imports: [
    ConfigModule,
    LoggingModule,
    TenancyModule.forRoot({ entities: SALES_ENTITIES, applicationName: 'bulkhead-worker', http: false }),
  ],
})
export class WorkerModule {}

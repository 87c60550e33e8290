import { ConfigModule } from '@bulkhead/config';
import { JobsModule } from '@bulkhead/jobs';
import { HealthModule, LoggingModule } from '@bulkhead/observability';
import { SALES_ENTITIES, SalesModule } from '@bulkhead/sales';
import { TenancyModule } from '@bulkhead/tenancy';
import { Module } from '@nestjs/common';

@Module({
  imports: [
    ConfigModule,
    LoggingModule,
    TenancyModule.forRoot({ entities: SALES_ENTITIES, applicationName: 'bulkhead-api', http: true }),
    JobsModule.forRoot({ worker: false, http: true }),
    SalesModule,
    HealthModule,
  ],
})
export class ApiModule {}

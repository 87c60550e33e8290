import { ConfigModule } from '@bulkhead/config';
import { JobsModule } from '@bulkhead/jobs';
import { LoggingModule } from '@bulkhead/observability';
import { SALES_ENTITIES, SalesModule } from '@bulkhead/sales';
import { TenancyModule } from '@bulkhead/tenancy';
import { Module } from '@nestjs/common';

/** Dispatches the fair queue and runs its jobs; the domain modules bring their job handlers. */
@Module({
  imports: [
    ConfigModule,
    LoggingModule,
    TenancyModule.forRoot({ entities: SALES_ENTITIES, applicationName: 'bulkhead-worker', http: false }),
    JobsModule.forRoot({ worker: true, http: false }),
    SalesModule,
  ],
})
export class WorkerModule {}

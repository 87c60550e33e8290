import { ConfigModule } from '@bulkhead/config';
import { JobsModule } from '@bulkhead/jobs';
import { LoggingModule } from '@bulkhead/observability';
import { TenancyModule } from '@bulkhead/tenancy';
import { Module } from '@nestjs/common';
import { DOMAINS } from '../../domains';

/** Dispatches the fair queue and runs its jobs; the domain modules bring their job handlers. */
@Module({
  imports: [
    ConfigModule,
    LoggingModule,
    TenancyModule.forRoot({ domains: DOMAINS, applicationName: 'bulkhead-worker', http: false }),
    JobsModule.forRoot({ worker: true, http: false }),
    ...DOMAINS.map((domain) => domain.module),
  ],
})
export class WorkerModule {}

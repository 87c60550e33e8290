import { ConfigModule } from '@bulkhead/config';
import { JobsModule } from '@bulkhead/jobs';
import { HealthModule, LoggingModule } from '@bulkhead/observability';
import { TenancyModule } from '@bulkhead/tenancy';
import { Module } from '@nestjs/common';
import { DOMAINS } from '../../domains';

@Module({
  imports: [
    ConfigModule,
    LoggingModule,
    TenancyModule.forRoot({ domains: DOMAINS, applicationName: 'bulkhead-api', http: true }),
    JobsModule.forRoot({ worker: false, http: true }),
    HealthModule,
    ...DOMAINS.map((domain) => domain.module),
  ],
})
export class ApiModule {}

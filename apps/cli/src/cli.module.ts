import { ConfigModule } from '@bulkhead/config';
import { JobsModule } from '@bulkhead/jobs';
import { RateLimitModule } from '@bulkhead/rate-limit';
import { TenancyModule } from '@bulkhead/tenancy';
import { TenantMovesModule } from '@bulkhead/tenant-moves';
import { Module } from '@nestjs/common';
import { DOMAINS } from '../../domains';

/** The same services the API uses, without HTTP: the CLI goes through the same code paths. */
@Module({
  imports: [
    ConfigModule,
    TenancyModule.forRoot({ domains: DOMAINS, applicationName: 'bulkhead-cli', http: false }),
    JobsModule.forRoot({ worker: false, http: false }),
    // For `tenant requests`: the request counts the API's limiter keeps in Redis.
    RateLimitModule,
    // For `tenant move`.
    TenantMovesModule.forRoot({ http: false }),
    ...DOMAINS.map((domain) => domain.module),
  ],
})
export class CliModule {}

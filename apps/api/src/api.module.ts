import { ConfigModule } from '@bulkhead/config';
import { JobsModule } from '@bulkhead/jobs';
import { MetricsModule } from '@bulkhead/metrics';
import { ServiceClientModule } from '@bulkhead/service-client';
import { HealthModule, LoggingModule } from '@bulkhead/observability';
import { RATE_LIMIT_ACCESS } from '@bulkhead/rate-limit';
import { AccessStage, TenancyModule } from '@bulkhead/tenancy';
import { TenantMovesModule } from '@bulkhead/tenant-moves';
import { TenantCacheModule } from '@bulkhead/tenant-cache';
import type { BulkheadDomain } from '@bulkhead/domain-kit';
import { DynamicModule, Module, Type } from '@nestjs/common';
import { DOMAINS } from '../../domains';
import { ConsoleModule } from './console/console.module';

/** The stages of the access chain after the tenant guard: per-tenant rate limits. */
export const API_ACCESS: readonly AccessStage[] = [RATE_LIMIT_ACCESS];

/** The API's modules; the benchmarks build the same API with other access stages or domains to compare. */
export function apiImports(access: readonly AccessStage[] = API_ACCESS, domains: readonly BulkheadDomain[] = DOMAINS): Array<Type<unknown> | DynamicModule> {
  return [
    ConfigModule,
    LoggingModule,
    TenancyModule.forRoot({ domains, applicationName: 'bulkhead-api', http: true, access }),
    JobsModule.forRoot({ worker: false, http: true }),
    HealthModule,
    TenantMovesModule.forRoot({ http: true }),
    TenantCacheModule,
    MetricsModule,
    ServiceClientModule,
    ...domains.map((domain) => domain.module),
  ];
}

/** The API process: the modules above, and the operator console's files at `/console`. */
@Module({ imports: [...apiImports(), ConsoleModule] })
export class ApiModule {}

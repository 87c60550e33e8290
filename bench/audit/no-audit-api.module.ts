import { AUDIT_FEATURE } from '@bulkhead/audit';
import { ConfigModule } from '@bulkhead/config';
import { PROBLEM_OBSERVER } from '@bulkhead/problem';
import { JobsModule } from '@bulkhead/jobs';
import { HealthModule, LoggingModule } from '@bulkhead/observability';
import { TenancyModule } from '@bulkhead/tenancy';
import { Module } from '@nestjs/common';
import { DOMAINS } from '../../apps/domains';

const WITHOUT_AUDIT = DOMAINS.filter((domain) => domain !== AUDIT_FEATURE);

/** The production API module minus the audit feature: the baseline of the audit benchmark. */
@Module({
  imports: [
    ConfigModule,
    LoggingModule,
    TenancyModule.forRoot({ domains: WITHOUT_AUDIT, applicationName: 'bulkhead-bench-no-audit', http: true }),
    JobsModule.forRoot({ worker: false, http: true }),
    HealthModule,
    ...WITHOUT_AUDIT.map((domain) => domain.module),
  ],
  // No observer: the problem filter answers and records nothing.
  providers: [{ provide: PROBLEM_OBSERVER, useValue: undefined }],
})
export class NoAuditApiModule {}

import { AuditCheckpointer, QueryAuditSchedule } from '@bulkhead/audit';
import { ConfigModule } from '@bulkhead/config';
import { JobsModule } from '@bulkhead/jobs';
import { LifecycleSweeper } from '@bulkhead/lifecycle';
import { ReconciliationScheduleModule } from '@bulkhead/metering';
import { NoisyDetectorSchedule } from '@bulkhead/noisy-neighbours';
import { LoggingModule } from '@bulkhead/observability';
import { TenancyModule } from '@bulkhead/tenancy';
import { TenantCacheModule } from '@bulkhead/tenant-cache';
import { TenantMovesModule } from '@bulkhead/tenant-moves';
import { Module } from '@nestjs/common';
import { DOMAINS } from '../../domains';

/** Dispatches the fair queue and runs its jobs (the domain modules bring their handlers), signs audit checkpoints, runs query audits and resumes stalled tenant moves. */
@Module({
  imports: [
    ConfigModule,
    LoggingModule,
    TenancyModule.forRoot({ domains: DOMAINS, applicationName: 'bulkhead-worker', http: false }),
    JobsModule.forRoot({ worker: true, http: false }),
    TenantCacheModule,
    // Resumes moves whose mover died (MOVES_RESUME_INTERVAL_MS); the operator routes are the API's.
    TenantMovesModule.forRoot({ http: false, resume: true }),
    ...DOMAINS.map((domain) => domain.module),
    ReconciliationScheduleModule,
  ],
  // The worker signs chain heads (AUDIT_CHECKPOINT_*), runs the query audit (AUDIT_QUERY_AUDIT_INTERVAL_MS),
  // the lifecycle's rounds (stalled sagas, outbox, warm pool: LIFECYCLE_SWEEP_MS) and the noisy-neighbour
  // detector (NOISY_INTERVAL_MS); the API does not.
  providers: [AuditCheckpointer, QueryAuditSchedule, LifecycleSweeper, NoisyDetectorSchedule],
})
export class WorkerModule {}

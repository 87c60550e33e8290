import { JobRun, JobRunObserver, JobRunObserverProvider } from '@bulkhead/jobs';
import { Injectable } from '@nestjs/common';
import { AuditEvent } from './audit-event';
import { AuditTrail } from './audit-trail';
import { actorOf, boundaryOf, resolutionOf } from './tenant-actor';

/**
 * Every job run that reached its handler gets an entry: a tenant job's in that tenant's chain
 * (the worker has re-established its context), a platform job's in the platform chain. Written in
 * a transaction of its own after the run, so it records failures too; the job's writes, if any,
 * already carry their own entries, committed with them.
 */
@Injectable()
@JobRunObserverProvider()
export class JobRunRecorder implements JobRunObserver {
  constructor(private readonly trail: AuditTrail) {}

  async observeJobRun(run: JobRun): Promise<void> {
    const event = (extra: Partial<AuditEvent>): AuditEvent => ({
      action: `job.run ${run.name}`,
      outcome: run.outcome,
      actor: { kind: 'job', subject: run.userId },
      resource: { type: 'job', id: run.id },
      details: { attempt: run.attempt, startedAt: run.startedAt.toISOString(), durationMs: run.durationMs, ...(run.error ? { error: run.error } : {}) },
      ...extra,
    });
    if (run.scope === 'platform') {
      await this.trail.recordPlatform([event({ resolution: { via: 'job', job: { name: run.name, id: run.id, attempt: run.attempt } } })]);
      return;
    }
    const tenant = AuditTrail.tenantOrNone();
    if (!tenant) throw new Error('a tenant job run without its tenant context');
    await this.trail.recordNow(event({ actor: actorOf(tenant), requestId: tenant.requestId ?? null, resolution: resolutionOf(tenant), boundary: boundaryOf(tenant) }));
  }
}

import { BulkheadConfig } from '@bulkhead/config';
import { attachFairRelease, FairJobData, FairQueue, FairReleaser } from '@bulkhead/fair-queue';
import { TenantRegistry } from '@bulkhead/control-plane';
import { runWithTenant, tenantContextOf } from '@bulkhead/tenancy';
import { runInContinuedSpan } from '@bulkhead/tracing';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { DelayedError, Job, UnrecoverableError } from 'bullmq';
import { isJobEnvelope } from './job-envelope';
import { JobHandler, JobInfo } from './job-handler';
import { JobHandlerProvider } from './job-handler.decorator';
import { JobRun, JobRunObserver, JobRunObserverProvider } from './job-run.observer';
import { FAIR_QUEUE, JOBS_BULL_QUEUE, JOBS_MAX_STALLED, JOBS_UNCOMMITTED_WAIT_MS, PLATFORM_KEY, SUSPENDED_RECHECK_MS } from './jobs.constants';
import { NotYetVisibleError } from './not-yet-visible.error';
import { waitsOut } from './waits-out';

/** BullMQ's own stall limit, never reached: JOBS_MAX_STALLED is enforced in `handle`. */
const BULLMQ_STALL_LIMIT_OUT_OF_REACH = 1_000_000;

/**
 * Runs every job of the fair queue. Before a tenant handler runs, the tenant is looked up afresh
 * (a job of a missing or deleted tenant is refused; one of a suspended tenant waits, unrun, until
 * the tenant is reactivated) and a new tenant
 * context is opened for exactly that job, so nothing of one job's tenant reaches the next.
 */
// The BullMQ prefix (a Redis Cluster hash tag) comes from the queue registration in JobsModule.
@Processor(JOBS_BULL_QUEUE, { maxStalledCount: BULLMQ_STALL_LIMIT_OUT_OF_REACH })
export class TenantJobProcessor extends WorkerHost implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('TenantJobProcessor');
  private readonly handlers = new Map<string, JobHandler>();
  private readonly runObservers: JobRunObserver[] = [];
  private releaser: FairReleaser | undefined;

  constructor(
    @Inject(FAIR_QUEUE) private readonly queue: FairQueue,
    private readonly registry: TenantRegistry,
    private readonly discovery: DiscoveryService,
    private readonly config: BulkheadConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    for (const wrapper of this.discovery.getProviders({ metadataKey: JobHandlerProvider.KEY })) {
      const handler = wrapper.instance as JobHandler;
      if (this.handlers.has(handler.name)) throw new Error(`Two handlers for job ${handler.name}`);
      this.handlers.set(handler.name, handler);
    }
    for (const wrapper of this.discovery.getProviders({ metadataKey: JobRunObserverProvider.KEY })) this.runObservers.push(wrapper.instance as JobRunObserver);
    this.worker.concurrency = this.config.JOBS_WORKER_CONCURRENCY;
    // While Redis is down BullMQ reports every failed call here and retries by itself.
    this.worker.on('error', (error) => this.logger.warn({ err: error }, 'job worker cannot reach Redis'));
    this.releaser = attachFairRelease(this.worker as never, this.queue, (error) => this.logger.error({ err: error }, 'slot release failed'));
  }

  /** Drains running jobs, then hands their slots back, before the connections close. */
  async onModuleDestroy(): Promise<void> {
    await this.worker.close();
    await this.releaser?.flush();
  }

  /**
   * Runs the job; if PostgreSQL or Redis could not be reached, or this worker shed its unit of
   * work (`overloaded`, see `waitsOut`), parks it (delayed, no attempt spent) with a capped
   * exponential wait, so an outage of any length never fails accepted work.
   * Only real failures count against the job's attempts. An outage need not stop every tenant
   * (one cluster of several, one silo's database): the tenant is held for the job's wait, as a
   * suspended one is, so its parked job gives its slot back and its other jobs stay buffered.
   * Parked jobs keeping their slots let the tenants of one unreachable cluster fill the window and
   * stop every other tenant's jobs. A job waiting for its enqueuing write's commit gives its window
   * slot back without holding the tenant: that wait is the job's own, not its tenant's.
   */
  async process(job: Job<FairJobData>, token?: string): Promise<void> {
    try {
      return await this.run(job, token);
    } catch (error) {
      const uncommitted = waitsForCommit(job, error);
      if (!uncommitted && !waitsOut(error)) throw error;
      const delayMs = this.outageDelayMs(job);
      if (uncommitted) {
        this.logger.debug({ jobId: job.id, delayMs }, 'job ran before the write that enqueued it committed; waiting without spending an attempt');
        // Its window slot back while it waits (up to JOBS_UNCOMMITTED_WAIT_MS for a write that may
        // have rolled back); it still counts against its tenant's cap.
        await this.queue.giveBack(job.data.tenant, [job]).catch((giveBackError: unknown) => this.logger.warn({ err: giveBackError, jobId: job.id }, 'slot not given back while the job waits'));
      } else {
        this.logger.warn({ err: error, jobId: job.id, delayMs }, 'job met an unreachable or overloaded backing service; retrying without spending an attempt');
        // The platform's jobs are not held: they serve every tenant and cluster, and one saga
        // meeting one unreachable cluster must not stop the others'; the parked one only gives its
        // slot back. Redis itself may be what is down: the job is parked all the same, keeping its slot.
        const freed = job.data.tenant === PLATFORM_KEY ? this.queue.giveBack(PLATFORM_KEY, [job]) : this.queue.hold(job.data.tenant, [job], delayMs);
        await freed.catch((slotError: unknown) => this.logger.warn({ err: slotError, jobId: job.id }, 'slot not given back through the outage'));
      }
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError();
    }
  }

  private async run(job: Job<FairJobData>, token: string | undefined): Promise<void> {
    const { tenant: key, name, payload: envelope } = job.data;
    if (!isJobEnvelope(envelope)) throw new UnrecoverableError('malformed job envelope');
    const handler = this.handlers.get(name);
    // Retried, not dropped: during a rolling deploy an older worker may not know a newer job yet.
    if (!handler) throw new Error(`no handler for job ${name} in this worker`);
    const info = { id: String(job.id), attempt: job.attemptsMade + 1, userId: envelope.userId };

    if (envelope.tenantId === null) {
      if (handler.scope !== 'platform' || key !== PLATFORM_KEY) throw new UnrecoverableError('a platform job must name no tenant');
      return this.handle(handler, envelope.payload, info, job);
    }
    if (handler.scope !== 'tenant' || key !== envelope.tenantId) throw new UnrecoverableError('job tenant does not match its queue');
    const tenant = await this.registry.findById(envelope.tenantId);
    if (!tenant || tenant.status === 'deleted') throw new UnrecoverableError('tenant unknown');
    if (tenant.status === 'suspended' || tenant.status === 'provisioning') {
      // Not run, and not lost: parked in BullMQ without spending an attempt until the tenant is
      // active. Held first, giving the job's slot back: parked jobs holding their slots let a few
      // suspended tenants fill the window and stop every tenant's dispatch. The hold also keeps
      // the tenant's buffered jobs out until HeldTenantsRecheck sees it active again.
      await this.queue.hold(key, [job]);
      await job.moveToDelayed(Date.now() + SUSPENDED_RECHECK_MS, token);
      throw new DelayedError();
    }
    // The resolution path travels into the audit entries of the job's writes: a job, by name and attempt.
    const resolution = { via: 'job' as const, checks: ['job_envelope_tenant', 'job_queue_matches', 'tenant_registered', 'tenant_active'], job: { name: job.name, id: info.id, attempt: info.attempt } };
    // The job's spans (its own, then pg and Redis) continue the trace of the request that enqueued it.
    return runWithTenant(tenantContextOf(tenant, envelope.userId, envelope.requestId, resolution), () =>
      runInContinuedSpan(`job ${name}`, envelope.trace, () => this.handle(handler, envelope.payload, info, job)),
    );
  }

  /**
   * Runs the handler and, when it fails for good, its `onFinalFailure` in the same context, so the
   * domain can record why (an export row marked failed, not pending forever). If that hook cannot
   * reach its database either, the outage propagates and the job is parked instead of finished.
   */
  private async handle(handler: JobHandler, payload: unknown, info: JobInfo, job: Job<FairJobData>): Promise<void> {
    const startedAt = new Date();
    try {
      // Found stalled too often: failed for good as a last attempt is, its final-failure hook run
      // (and parked, like any, should that hook meet an outage).
      if ((job.stalledCounter ?? 0) > JOBS_MAX_STALLED) throw new UnrecoverableError(`job stalled more than ${JOBS_MAX_STALLED} times`);
      await handler.handle(payload, info);
    } catch (error) {
      // An outage, or a write not committed yet, parks the job (no attempt spent): not a run to report.
      if (waitsOut(error) || waitsForCommit(job, error)) throw error;
      const lastAttempt = isLastAttempt(job, error);
      if (lastAttempt && handler.onFinalFailure) {
        try {
          await handler.onFinalFailure(payload, info);
        } catch (hookError) {
          if (waitsOut(hookError)) throw hookError;
          this.logger.error({ err: hookError, jobId: job.id }, 'final-failure hook failed');
        }
      }
      await this.report(handler, job, info, startedAt, lastAttempt ? 'failed_for_good' : 'failed', error);
      throw error;
    }
    await this.report(handler, job, info, startedAt, 'succeeded');
  }

  private async report(handler: JobHandler, job: Job<FairJobData>, info: JobInfo, startedAt: Date, outcome: JobRun['outcome'], error?: unknown): Promise<void> {
    if (this.runObservers.length === 0) return;
    const run: JobRun = {
      ...info,
      name: handler.name,
      scope: handler.scope,
      tenantId: job.data.tenant === PLATFORM_KEY ? null : job.data.tenant,
      startedAt,
      durationMs: Date.now() - startedAt.getTime(),
      outcome,
      ...(error === undefined ? {} : { error: (error as { name?: unknown } | null)?.name === undefined ? 'Error' : String((error as { name: unknown }).name).slice(0, 100) }),
    };
    for (const observer of this.runObservers) {
      try {
        await observer.observeJobRun(run);
      } catch (observerError) {
        this.logger.warn({ err: observerError, jobId: info.id }, 'job run observer failed');
      }
    }
  }

  /** Doubles with every outage this job has already waited out (starts that spent no attempt), up to the cap. */
  private outageDelayMs(job: Job<FairJobData>): number {
    const waited = Math.max(0, (job.attemptsStarted ?? 0) - job.attemptsMade - 1);
    return Math.min(this.config.JOBS_OUTAGE_BACKOFF_MAX_MS, this.config.JOBS_OUTAGE_BACKOFF_MS * 2 ** Math.min(waited, 30));
  }
}

/** Whether `error` says the job's write is not visible yet, and the job may still wait for it. */
function waitsForCommit(job: Job<FairJobData>, error: unknown): boolean {
  return error instanceof NotYetVisibleError && Date.now() - job.timestamp < JOBS_UNCOMMITTED_WAIT_MS;
}

/** Whether BullMQ will fail this job for good when the current run throws `error`. */
function isLastAttempt(job: Job<FairJobData>, error: unknown): boolean {
  if (error instanceof UnrecoverableError || (error as { name?: unknown } | null)?.name === 'UnrecoverableError') return true;
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

import { BulkheadConfig } from '@bulkhead/config';
import { TenantJobs } from '@bulkhead/jobs';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { LIFECYCLE_JOB } from './lifecycle.job';
import { SagaRunner } from './saga.runner';

/** Hands a saga to the worker as a platform job; the job id changes per run so a retry is not deduplicated away. */
@Injectable()
export class SagaStarter implements OnApplicationShutdown {
  private readonly logger = new Logger('SagaStarter');
  private readonly here = new Set<Promise<void>>();

  constructor(
    private readonly jobs: TenantJobs,
    private readonly runner: SagaRunner,
    private readonly config: BulkheadConfig,
  ) {}

  /**
   * Also runs the saga in this process at once, beside the job: a new tenant waits neither for a
   * worker's turn nor for the queue's dispatch (the signup figures in docs/benchmarks.md). The
   * saga's lease keeps one run at a time: the job, arriving meanwhile, finds it held and leaves
   * it; if this process dies mid-step, the lease runs out and the sweeper enqueues it again.
   */
  continueHere(sagaId: string): void {
    const run: Promise<void> = this.runner
      .run(sagaId)
      .then(() => undefined)
      .catch((error: unknown) => this.logger.warn({ err: error, sagaId }, 'a lifecycle saga run here stopped; its job or the sweeper takes over'))
      .finally(() => this.here.delete(run));
    this.here.add(run);
  }

  /** A shutdown lets the runs started here finish their step, up to one lease. */
  async onApplicationShutdown(): Promise<void> {
    if (this.here.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.here]), new Promise((resolve) => (timer = setTimeout(resolve, this.config.LIFECYCLE_LEASE_MS)))]);
    clearTimeout(timer);
  }

  /** Enqueues; if Redis refuses, the saga is still recorded and the worker's sweeper starts it. */
  async enqueue(sagaId: string, run: number, actor: string): Promise<void> {
    try {
      await this.jobs.enqueuePlatform(LIFECYCLE_JOB, { sagaId }, { jobId: `lifecycle-${sagaId}-${run}`, actor });
    } catch (error) {
      this.logger.warn({ err: error, sagaId }, 'could not enqueue a lifecycle saga; the sweeper will start it');
    }
  }
}

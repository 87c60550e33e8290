import { TenantJobs } from '@bulkhead/jobs';
import { Injectable, Logger } from '@nestjs/common';
import { LIFECYCLE_JOB } from './lifecycle.job';

/** Hands a saga to the worker as a platform job; the job id changes per run so a retry is not deduplicated away. */
@Injectable()
export class SagaStarter {
  private readonly logger = new Logger('SagaStarter');

  constructor(private readonly jobs: TenantJobs) {}

  /** Enqueues; if Redis refuses, the saga is still recorded and the worker's sweeper starts it. */
  async enqueue(sagaId: string, run: number, actor: string): Promise<void> {
    try {
      await this.jobs.enqueuePlatform(LIFECYCLE_JOB, { sagaId }, { jobId: `lifecycle-${sagaId}-${run}`, actor });
    } catch (error) {
      this.logger.warn({ err: error, sagaId }, 'could not enqueue a lifecycle saga; the sweeper will start it');
    }
  }
}

import { JobHandler, JobHandlerProvider, JobInfo } from '@bulkhead/jobs';
import { Injectable } from '@nestjs/common';
import { SagaRunner } from './saga.runner';

export const LIFECYCLE_JOB = 'lifecycle.saga';

export interface LifecycleJobPayload {
  sagaId: string;
}

/**
 * Runs a saga as a platform job. A step's transient failure fails the job (retried with backoff);
 * an outage parks it. A saga another run holds is left to it: if that run was killed, the
 * sweeper enqueues the saga again once its lease has run out.
 */
@Injectable()
@JobHandlerProvider()
export class LifecycleJobHandler implements JobHandler<LifecycleJobPayload> {
  readonly name = LIFECYCLE_JOB;
  readonly scope = 'platform' as const;

  constructor(private readonly runner: SagaRunner) {}

  async handle(payload: LifecycleJobPayload, _job: JobInfo): Promise<void> {
    await this.runner.run(payload.sagaId);
  }
}

import { JobInfo } from './job-handler';

/** One finished run of a job: what ran, for which tenant (the current context), and how it ended. */
export interface JobRun extends JobInfo {
  readonly name: string;
  readonly scope: 'tenant' | 'platform';
  readonly startedAt: Date;
  readonly durationMs: number;
  /** `succeeded`; `failed` (a retry follows); `failed_for_good` (the last attempt, or unrecoverable). */
  readonly outcome: 'succeeded' | 'failed' | 'failed_for_good';
  /** The error's class name, never its message (which may carry personal data). */
  readonly error?: string;
}

/**
 * Told of every run that reached its handler, in the job's own context (a tenant job's tenant is
 * current), after the handler returned or threw; runs parked for an outage or a suspended tenant
 * are not runs. `@bulkhead/audit` records each in the tenant's chain. An observer that throws does
 * not change the job's fate.
 */
export interface JobRunObserver {
  observeJobRun(run: JobRun): Promise<void>;
}

export const JOB_RUN_OBSERVER = Symbol('bulkhead.job-run-observer');

import { DiscoveryService } from '@nestjs/core';
import { JobInfo } from './job-handler';

/** One finished run of a job: what ran, for which tenant, and how it ended. */
export interface JobRun extends JobInfo {
  readonly name: string;
  readonly scope: 'tenant' | 'platform';
  /** The job's tenant (also the current context while observers run); null for a platform job. */
  readonly tenantId: string | null;
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
 * not change the job's fate. Mark the provider with `@JobRunObserverProvider()`: the worker
 * discovers every one, so the jobs lib never imports the libs that observe it.
 */
export interface JobRunObserver {
  observeJobRun(run: JobRun): Promise<void> | void;
}

export const JobRunObserverProvider = DiscoveryService.createDecorator<void>();

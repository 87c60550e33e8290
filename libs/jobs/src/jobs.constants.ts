import { BulkheadConfig } from '@bulkhead/config';
import { FairQueueKeys } from '@bulkhead/fair-queue';

/**
 * The BullMQ queue's name. Fixed because `@Processor` needs it when the class is declared, before
 * any configuration is read; deployments stay apart because every key lives under the hash tag
 * of the configured JOBS_QUEUE_NAME.
 */
export const JOBS_BULL_QUEUE = 'jobs';

/** Every Redis key of this deployment's fair queue. */
export function jobsQueueKeys(config: BulkheadConfig): FairQueueKeys {
  return new FairQueueKeys(config.JOBS_QUEUE_NAME, JOBS_BULL_QUEUE);
}

/** The scheduler key of work that belongs to no tenant; cannot collide with a tenant uuid. */
export const PLATFORM_KEY = 'platform';

/** How often a suspended (or provisioning) tenant's parked job, and its hold, are looked at again. */
export const SUSPENDED_RECHECK_MS = 5000;

export const FAIR_QUEUE = Symbol('bulkhead.fair-queue');
export const JOBS_REDIS = Symbol('bulkhead.jobs-redis');

/**
 * How often a job may be found stalled (its worker killed, or its event loop stuck past the lock)
 * before it fails for good. BullMQ's default, 1, failed a job cut off by two crashes with none of
 * its JOBS_ATTEMPTS spent: a crash is not the job's failure. Finite, so a job that kills every
 * worker that runs it still ends. Enforced here, not by BullMQ's `maxStalledCount` (set out of
 * reach): BullMQ fails such a job without calling `process`, so the handler's `onFinalFailure`
 * would never run, and the job's tenant would not be checked first.
 */
export const JOBS_MAX_STALLED = 25;

/**
 * How long a job may wait, spending no attempt, for the write that enqueued it to commit (see
 * NotYetVisibleError): far beyond any transaction this platform keeps open.
 */
export const JOBS_UNCOMMITTED_WAIT_MS = 10 * 60_000;

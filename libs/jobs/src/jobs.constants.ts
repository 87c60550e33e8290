import { FairQueueKeys } from '@bulkhead/fair-queue';

/**
 * One fair queue for all background work; tenants are fair-scheduled inside it. Read from the
 * environment at import because the @Processor decorator needs it before Nest starts; the config
 * validates the same setting (JOBS_QUEUE_NAME) with a clear message.
 */
export const JOBS_QUEUE = /^[A-Za-z0-9_-]{1,64}$/.test(process.env.JOBS_QUEUE_NAME ?? '') ? (process.env.JOBS_QUEUE_NAME as string) : 'jobs';
export const JOBS_KEYS = new FairQueueKeys(JOBS_QUEUE);

/** The scheduler key of work that belongs to no tenant; cannot collide with a tenant uuid. */
export const PLATFORM_KEY = 'platform';

export const FAIR_QUEUE = Symbol('bulkhead.fair-queue');
export const JOB_HANDLERS = Symbol('bulkhead.job-handlers');
export const JOBS_REDIS = Symbol('bulkhead.jobs-redis');

export { JobsModule, type JobsOptions } from './jobs.module';
export { TenantJobs, type EnqueuedJob } from './tenant-jobs';
export { TenantJobRecords } from './tenant-job-records';
export type { JobHandler, JobInfo } from './job-handler';
export { JobHandlerProvider } from './job-handler.decorator';
export { JobBacklogFullProblem, JobsUnavailableProblem } from './jobs.errors';
export { JOBS_MAX_STALLED, jobsQueueKeys, PLATFORM_KEY } from './jobs.constants';
export { JobRunObserverProvider, type JobRun, type JobRunObserver } from './job-run.observer';
export { JobsOverview, type JobsCounts, type QueueCounts } from './jobs-overview';

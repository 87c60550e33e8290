/** Told how long each tenant job's handler ran (the usage recorder); must be cheap and never throw. */
export interface JobRunObserver {
  jobRan(tenantId: string, ms: number): void;
}

/** Provide this token (globally) to observe job runs; the processor works without one. */
export const JOB_RUN_OBSERVER = Symbol('JOB_RUN_OBSERVER');

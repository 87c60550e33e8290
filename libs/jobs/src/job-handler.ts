/** What a handler learns about the job besides its payload. */
export interface JobInfo {
  /** Stable across retries: use it to make the handler idempotent. */
  id: string;
  attempt: number;
  userId: string;
}

/**
 * A handler of one job name. Tenant handlers run inside the job's tenant context (so
 * `TenantData` and the logger see that tenant); platform handlers run with none. Delivery is at
 * least once: a handler must be safe to run twice.
 */
export interface JobHandler<P = unknown> {
  readonly name: string;
  readonly scope: 'tenant' | 'platform';
  handle(payload: P, job: JobInfo): Promise<void>;
  /**
   * Called once the job has failed for good (its last attempt, or an unrecoverable error), in the
   * same context as `handle`, before the job is marked failed: record the failure where the
   * tenant can see it. Never called for outages, which do not fail a job. Must be idempotent.
   */
  onFinalFailure?(payload: P, job: JobInfo): Promise<void>;
}

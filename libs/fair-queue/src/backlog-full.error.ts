/**
 * Raised by `enqueue` when a tenant's buffer already holds its maximum backlog. Callers map it to
 * HTTP 429 (or drop the job): accepting more would let one tenant grow Redis without bound.
 */
export class BacklogFullError extends Error {
  readonly code = 'tenant_backlog_full';

  constructor(
    readonly tenant: string,
    readonly maxBacklog: number,
  ) {
    super(`Tenant ${tenant} already has ${maxBacklog} jobs waiting; retry later.`);
    this.name = 'BacklogFullError';
  }
}

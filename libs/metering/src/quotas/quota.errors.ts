import { ProblemError } from '@bulkhead/problem';

/**
 * The tenant's plan allows no more of this meter in the current period. Nothing of the refused
 * action was written. `limit`, `used` and `resetsAt` tell the client when it may try again.
 */
export class QuotaExceededProblem extends ProblemError {
  constructor(details: { meter: string; limit: number; used: number; resetsAt: Date }) {
    const retryAfterSeconds = Math.max(1, Math.ceil((details.resetsAt.getTime() - Date.now()) / 1000));
    super(429, 'quota_exceeded', 'Quota exceeded', `Your plan allows ${details.limit} ${details.meter} per period; ${details.used} used. It resets at ${details.resetsAt.toISOString()}.`, {
      meter: details.meter,
      limit: details.limit,
      used: details.used,
      resetsAt: details.resetsAt.toISOString(),
      retryAfterSeconds,
    });
  }
}

/** The example the OpenAPI document shows. */
export const QUOTA_EXCEEDED_EXAMPLE = new QuotaExceededProblem({ meter: 'orders.created', limit: 1000, used: 1000, resetsAt: new Date(Date.UTC(2100, 0, 1)) });

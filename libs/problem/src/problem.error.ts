/**
 * Base of every error the platform reports to a client. `code` is stable and documented: clients
 * branch on it, so it never changes once shipped. `detail` must not reveal anything the caller
 * may not know (another tenant's data, constraint names, SQL).
 */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
    this.name = new.target.name;
  }
}

export interface FieldProblem {
  field: string;
  messages: string[];
}

export class ValidationProblem extends ProblemError {
  constructor(readonly fields: FieldProblem[]) {
    super(400, 'validation_failed', 'Request validation failed', 'One or more fields are invalid.', { errors: fields });
  }
}

/**
 * PostgreSQL or Redis is restarting or unreachable (`isInfrastructureFailure`): the request was
 * fine and may be retried as is; the pools reconnect by themselves once the service is back.
 */
export class ServiceUnavailableProblem extends ProblemError {
  constructor() {
    super(503, 'service_unavailable', 'Service unavailable', 'A backing service is temporarily unreachable; retry shortly.', { retryAfterSeconds: 1 });
  }
}

/**
 * The tenant's placement (its schema or silo database) lacks a table or column this release
 * uses: its migrations are behind the code (a deploy that ran before `bulkhead migrate`
 * reached it). Temporary from the client's side, an operator's job on ours.
 */
export class PlacementOutdatedProblem extends ProblemError {
  constructor() {
    super(503, 'placement_outdated', 'Tenant data is being upgraded', "This tenant's data is not yet at the version this release needs; retry shortly.", {
      retryAfterSeconds: 30,
    });
  }
}

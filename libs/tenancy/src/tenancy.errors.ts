import { ProblemError } from '@bulkhead/problem';

/** Thrown by a context accessor used where no tenant was established: a bug, never a client error. */
export class TenantContextMissingError extends Error {
  readonly code = 'tenant_context_missing';

  constructor(what = 'tenant') {
    super(`No ${what} context is established here; tenant data cannot be reached outside a tenant context`);
    this.name = 'TenantContextMissingError';
  }
}

export class TenantContextImmutableError extends Error {
  readonly code = 'tenant_context_immutable';

  constructor() {
    super('The tenant context is already established for this unit of work and cannot be replaced');
    this.name = 'TenantContextImmutableError';
  }
}

export class TenantRequiredProblem extends ProblemError {
  constructor() {
    super(403, 'tenant_required', 'Tenant required', 'The token does not name a tenant.');
  }
}

/** One answer for an unknown tenant and one we will not serve: the caller learns nothing more. */
export class TenantUnavailableProblem extends ProblemError {
  constructor() {
    super(403, 'tenant_unavailable', 'Tenant unavailable', 'The tenant named by the token is not available.');
  }
}

export class TenantSuspendedProblem extends ProblemError {
  constructor() {
    super(403, 'tenant_suspended', 'Tenant suspended', 'The tenant is suspended.');
  }
}

export class TenantMismatchProblem extends ProblemError {
  constructor() {
    super(403, 'tenant_mismatch', 'Tenant mismatch', 'The tenant named by the request does not match the token.');
  }
}

export class OperatorRequiredProblem extends ProblemError {
  constructor() {
    super(403, 'operator_required', 'Operator access required', 'This operation requires an operator token.');
  }
}

export class TenantNotFoundProblem extends ProblemError {
  constructor() {
    super(404, 'tenant_not_found', 'Tenant not found', 'No tenant with that id exists.');
  }
}

export class TenantSlugTakenProblem extends ProblemError {
  constructor() {
    super(409, 'tenant_slug_taken', 'Slug taken', 'A tenant with that slug already exists.');
  }
}

export class TenantStateProblem extends ProblemError {
  constructor(detail: string) {
    super(409, 'tenant_state_conflict', 'Tenant state conflict', detail);
  }
}

export class PlacementUnavailableProblem extends ProblemError {
  constructor(detail: string) {
    super(503, 'placement_unavailable', 'Placement unavailable', detail, { retryAfterSeconds: 30 });
  }
}

export class TenantBoundaryViolationError extends Error {
  readonly code = 'tenant_boundary_violation';

  constructor(detail: string) {
    super(`Tenant boundary violation: ${detail}`);
    this.name = 'TenantBoundaryViolationError';
  }
}

export class UnsafeDatabaseRoleError extends Error {
  readonly code = 'unsafe_database_role';

  constructor(detail: string) {
    super(
      `Refusing to start: the runtime database role could bypass row-level security (${detail}). ` +
        'Point DATABASE_URL at the runtime role created by `npm run setup` (no SUPERUSER, no BYPASSRLS, owns nothing).',
    );
    this.name = 'UnsafeDatabaseRoleError';
  }
}

/** Shed before queueing without bound: the caller should retry shortly. */
export class OverloadedProblem extends ProblemError {
  constructor(detail: string) {
    super(503, 'overloaded', 'Temporarily overloaded', detail, { retryAfterSeconds: 1 });
  }
}

import { ProblemError } from '@bulkhead/problem';

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

/** A grant that is malformed, forged, expired, of another operator, or offered by anyone but an operator. */
export class ImpersonationRefusedProblem extends ProblemError {
  constructor() {
    super(403, 'impersonation_refused', 'Impersonation refused', 'The impersonation grant is not valid for this caller, or has expired.');
  }
}

export class ImpersonationReadOnlyProblem extends ProblemError {
  constructor() {
    super(403, 'impersonation_read_only', 'Impersonation is read-only', 'This impersonation grant allows reads only; ask for a write grant, with a reason.');
  }
}

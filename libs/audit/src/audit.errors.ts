import { ProblemError } from '@bulkhead/problem';

/** Same answer whether the grant never existed or belongs to another tenant. */
export class ImpersonationGrantNotFoundProblem extends ProblemError {
  constructor() {
    super(404, 'impersonation_grant_not_found', 'Impersonation grant not found', 'No impersonation grant with that id exists for this tenant.');
  }
}

/** A tenant erased for good: its trail, its grants and its key went with its data (see its erasure certificate). */
export class TenantTrailErasedProblem extends ProblemError {
  constructor() {
    super(410, 'tenant_erased', 'Tenant erased', "The tenant was erased: its audit trail and impersonation grants were erased with its data; its erasure certificate remains.");
  }
}

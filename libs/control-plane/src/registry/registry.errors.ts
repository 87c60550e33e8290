import { ProblemError } from '@bulkhead/problem';

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

export class TenantExternalRefTakenProblem extends ProblemError {
  constructor() {
    super(409, 'tenant_external_ref_taken', 'External reference taken', 'A tenant with that external reference already exists.');
  }
}

export class TenantStateProblem extends ProblemError {
  constructor(detail: string) {
    super(409, 'tenant_state_conflict', 'Tenant state conflict', detail);
  }
}

export class ProvisioningFailedProblem extends ProblemError {
  constructor() {
    super(503, 'provisioning_failed', 'Provisioning failed', 'The tenant was recorded but its storage is not ready; provision it again.', {
      retryAfterSeconds: 10,
    });
  }
}

/**
 * A tenant erased for good (status deleted): its runtime state (jobs, limits, counts, connections)
 * went with its data, and an operator route must not write any of it back.
 */
export class TenantErasedProblem extends ProblemError {
  constructor(detail = 'The tenant was erased; only its record and its erasure certificate remain.') {
    super(410, 'tenant_erased', 'Tenant erased', detail);
  }
}

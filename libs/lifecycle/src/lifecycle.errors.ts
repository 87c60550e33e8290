import { ProblemError } from '@bulkhead/problem';

export class LifecycleSlugTakenProblem extends ProblemError {
  constructor() {
    super(409, 'tenant_slug_taken', 'Slug taken', 'A tenant with that slug already exists.');
  }
}

export class LifecycleExternalRefTakenProblem extends ProblemError {
  constructor() {
    super(409, 'tenant_external_ref_taken', 'External reference taken', 'A tenant with that external reference already exists.');
  }
}

export class LifecycleNotFoundProblem extends ProblemError {
  constructor() {
    super(404, 'tenant_not_found', 'Tenant not found', 'No tenant with that id exists.');
  }
}

export class SignupNotFoundProblem extends ProblemError {
  constructor() {
    super(404, 'signup_not_found', 'Signup not found', 'No signup with that id exists.');
  }
}

export class SignupKeyRequiredProblem extends ProblemError {
  constructor() {
    super(400, 'idempotency_key_required', 'Idempotency-Key required', 'A signup must carry an Idempotency-Key header (a quoted string, e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324"), so a repeated submit creates one tenant.');
  }
}

export class SignupKeyReusedProblem extends ProblemError {
  constructor() {
    super(422, 'idempotency_key_reused', 'Idempotency-Key reused', 'This Idempotency-Key was used for a different signup.');
  }
}

export class SignupRateLimitedProblem extends ProblemError {
  constructor(retryAfterSeconds: number) {
    super(429, 'rate_limited', 'Too many signups', 'Too many signups from this address; retry later.', { retryAfterSeconds });
  }
}

export class LifecycleStateProblem extends ProblemError {
  constructor(detail: string) {
    super(409, 'lifecycle_state_conflict', 'Lifecycle state conflict', detail);
  }
}

export class ArchiveNotFoundProblem extends ProblemError {
  constructor() {
    super(404, 'archive_not_found', 'Archive not found', 'The tenant has no export archive (never offboarded, or erased).');
  }
}

export class CertificateNotFoundProblem extends ProblemError {
  constructor() {
    super(404, 'certificate_not_found', 'Erasure certificate not found', 'The tenant has not been erased.');
  }
}

/** The onboarding saga ended without an active tenant (its compensations ran); the reason is in its ledger. */
export class OnboardingFailedProblem extends ProblemError {
  constructor(detail = 'The tenant could not be provisioned; its onboarding saga failed and was compensated. See GET /v1/admin/tenants/{id}/lifecycle.') {
    super(503, 'provisioning_failed', 'Provisioning failed', detail, { retryAfterSeconds: 10 });
  }
}

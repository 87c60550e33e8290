import { ProblemError } from '@bulkhead/problem';

/** A call to another service could not be made on this request's behalf (no token to carry). */
export class ServiceCredentialsUnavailableProblem extends ProblemError {
  constructor(detail: string) {
    super(503, 'service_credentials_unavailable', 'Service call not possible', detail, { retryAfterSeconds: 1 });
  }
}

/**
 * An operator acting through an impersonation grant asked for a minted token: a tenant token would
 * shed what bounds the grant (read-only, expiry, revocation, the operator named in the trail).
 */
export class ImpersonationNotDelegableProblem extends ProblemError {
  constructor() {
    super(
      403,
      'impersonation_not_delegable',
      'Impersonation cannot be delegated',
      'A service token is not minted for an operator acting through an impersonation grant; call with the caller credentials, which carry the grant.',
    );
  }
}

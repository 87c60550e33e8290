import { ProblemError } from '@bulkhead/problem';

export class OperatorRequiredProblem extends ProblemError {
  constructor() {
    super(403, 'operator_required', 'Operator access required', 'This operation requires an operator token.');
  }
}

/** The key set is older than AUTH_JWKS_MAX_AGE_MS and the provider cannot be reached to renew it. */
export class IdentityProviderUnavailableProblem extends ProblemError {
  constructor() {
    super(503, 'identity_provider_unavailable', 'Identity provider unavailable', 'Tokens cannot be verified right now; try again shortly.', {
      retryAfterSeconds: 5,
    });
  }
}

/** Why a token's key could not be used (unknown kid, algorithm mismatch...): a 401 whose reason stays in the server. */
export class UnusableTokenKey extends Error {}

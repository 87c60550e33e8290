import { ProblemError } from '@bulkhead/problem';

/** A route behind a flag that is off for the caller's tenant. */
export class FeatureDisabledProblem extends ProblemError {
  constructor() {
    super(403, 'feature_disabled', 'Feature not enabled', 'This feature is not enabled for your organisation.');
  }
}

export class FlagNotFoundProblem extends ProblemError {
  constructor() {
    super(404, 'flag_not_found', 'Flag not found', 'No flag with that key exists.');
  }
}

export class FlagExistsProblem extends ProblemError {
  constructor() {
    super(409, 'flag_exists', 'Flag exists', 'A flag with that key exists already; replace it with PUT.');
  }
}

export class FlagTenantNotFoundProblem extends ProblemError {
  constructor() {
    super(404, 'tenant_not_found', 'Tenant not found', 'No tenant with that id exists.');
  }
}

import { ProblemError } from '@bulkhead/problem';

export class MeterNotFoundProblem extends ProblemError {
  constructor() {
    super(404, 'meter_not_found', 'Meter not found', 'No meter with that name is declared.');
  }
}

export class UsageRangeInvalidProblem extends ProblemError {
  constructor(detail = 'from must be before to, and the range may hold at most 1,000 periods of the granularity.') {
    super(400, 'usage_range_invalid', 'Invalid usage range', detail);
  }
}

/** A tenant still provisioning, or erased: it has no placement whose usage could be read. */
export class TenantUsageUnavailableProblem extends ProblemError {
  constructor(status: string) {
    super(409, 'tenant_usage_unavailable', 'Tenant usage unavailable', `The tenant is ${status}: it has no placement to read usage from.`);
  }
}

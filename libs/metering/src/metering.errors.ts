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

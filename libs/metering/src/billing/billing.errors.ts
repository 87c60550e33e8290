import { ProblemError } from '@bulkhead/problem';

export class BillingPeriodInvalidProblem extends ProblemError {
  constructor() {
    super(400, 'billing_period_invalid', 'Invalid billing period', 'period must be a calendar month as YYYY-MM of the years 2000-2999, e.g. 2026-11.');
  }
}

export class BillingNotConfiguredProblem extends ProblemError {
  constructor() {
    super(409, 'billing_not_configured', 'Billing not configured', 'Set BILLING_STRIPE_API_KEY (and BILLING_STRIPE_BASE_URL if not Stripe itself) before sending meter events.');
  }
}

export class BillingTenantNotFoundProblem extends ProblemError {
  constructor() {
    super(404, 'tenant_not_found', 'Tenant not found', 'No tenant with that id exists.');
  }
}

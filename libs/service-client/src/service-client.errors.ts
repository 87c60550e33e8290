import { ProblemError } from '@bulkhead/problem';

/** A call to another service could not be made on this request's behalf (no token to carry). */
export class ServiceCredentialsUnavailableProblem extends ProblemError {
  constructor(detail: string) {
    super(503, 'service_credentials_unavailable', 'Service call not possible', detail, { retryAfterSeconds: 1 });
  }
}

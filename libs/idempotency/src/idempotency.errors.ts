import { ProblemError } from '@bulkhead/problem';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

export class IdempotencyKeyInvalidProblem extends ProblemError {
  constructor() {
    super(
      400,
      'idempotency_key_invalid',
      'Invalid Idempotency-Key',
      'Idempotency-Key must be one Structured Field String (RFC 8941): 1 to 255 printable ASCII characters in double quotes, e.g. Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324".',
    );
  }
}

export class IdempotencyKeyUnsupportedProblem extends ProblemError {
  constructor() {
    super(
      400,
      'idempotency_key_unsupported',
      'Idempotency-Key not supported here',
      'Operator routes do not take an Idempotency-Key: their POSTs are state changes that are safe to repeat, and tenant creation is keyed by its slug.',
    );
  }
}

export class IdempotencyKeyReusedProblem extends ProblemError {
  constructor() {
    super(422, 'idempotency_key_reused', 'Idempotency-Key reused', 'This Idempotency-Key was already used for a different request (method, path or body); use a new key for a new request.');
  }
}

export class IdempotencyKeyInProgressProblem extends ProblemError {
  constructor() {
    super(409, 'idempotency_key_in_progress', 'Request with this Idempotency-Key in progress', 'A request with this Idempotency-Key is still being processed; retry after it completes.', {
      retryAfterSeconds: 1,
    });
  }
}

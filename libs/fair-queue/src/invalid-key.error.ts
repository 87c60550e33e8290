/**
 * Raised when a tenant key, job id or queue name would break the key layout: a ':' or a brace
 * would change the Redis hash slot or collide with BullMQ's own key separator.
 */
export class InvalidKeyError extends Error {
  readonly code = 'fair_queue_invalid_key';

  constructor(
    readonly kind: 'tenant' | 'jobId' | 'queue',
    readonly value: string,
  ) {
    super(`Invalid ${kind} ${JSON.stringify(value.slice(0, 80))}: use 1-64 characters from [A-Za-z0-9_-].`);
    this.name = 'InvalidKeyError';
  }
}

export { IDEMPOTENCY_FEATURE } from './idempotency.feature';
export { IdempotencyRecord } from './idempotency-key.entity';
export { IDEMPOTENCY_KEY_TTL_MS, recordIdOf } from './idempotency-store';
export { REPLAYED_HEADER } from './idempotency.interceptor';
export * from './idempotency.errors';
export { HandlesIdempotencyKey } from './own-idempotency.decorator';

import { SetMetadata } from '@nestjs/common';

export const OWN_IDEMPOTENCY = 'bulkhead:own-idempotency';

/**
 * A public route that keeps its own record of `Idempotency-Key` (signup dedupes in the saga it
 * starts, with no tenant to store a response under): the interceptor leaves it alone.
 */
export const HandlesIdempotencyKey = (): MethodDecorator => SetMetadata(OWN_IDEMPOTENCY, true);

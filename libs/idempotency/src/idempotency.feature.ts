import { definePlatformFeature } from '@bulkhead/domain-kit';
import { join } from 'node:path';
import { IdempotencyRecord } from './idempotency-key.entity';
import { IdempotencyModule } from './idempotency.module';

/** Registered in `apps/domains.ts`; its table is migrated before every domain's. */
export const IDEMPOTENCY_FEATURE = definePlatformFeature({
  name: 'idempotency',
  module: IdempotencyModule,
  entities: [IdempotencyRecord],
  migrations: join(__dirname, '..', 'migrations'),
});

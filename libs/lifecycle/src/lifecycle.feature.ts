import { definePlatformFeature } from '@bulkhead/domain-kit';
import { join } from 'node:path';
import { LifecycleModule } from './lifecycle.module';

/**
 * Registered in `apps/domains.ts`. No tenant tables: its tables (the saga ledger, the warm pool,
 * hosts, the outbox, archives, certificates) are control-plane tables, migrated with the control plane.
 */
export const LIFECYCLE_FEATURE = definePlatformFeature({
  name: 'lifecycle',
  module: LifecycleModule,
  entities: [],
  controlMigrations: join(__dirname, '..', 'migrations'),
});

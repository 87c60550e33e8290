import { definePlatformFeature } from '@bulkhead/domain-kit';
import { join } from 'node:path';
import { MeteringModule } from './metering.module';

/** Registered in `apps/domains.ts`; its tables are migrated before every domain's. */
export const METERING_FEATURE = definePlatformFeature({
  name: 'metering',
  module: MeteringModule,
  entities: [],
  migrations: join(__dirname, '..', 'migrations'),
  // The exact quota upsert re-checks the limit against the period's other rollup shards in its
  // ON CONFLICT ... WHERE, which Citus refuses on a distributed table (a sub-select there becomes
  // a volatile intermediate result): on a Citus pool the usage tables stay on the coordinator.
  citusTables: 'coordinator',
});

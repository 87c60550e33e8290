import { definePlatformFeature } from '@bulkhead/domain-kit';
import { join } from 'node:path';
import { MeteringModule } from './metering.module';

/** Registered in `apps/domains.ts`; its tables are migrated before every domain's. */
export const METERING_FEATURE = definePlatformFeature({
  name: 'metering',
  module: MeteringModule,
  entities: [],
  migrations: join(__dirname, '..', 'migrations'),
});

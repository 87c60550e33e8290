import { defineDomain } from '@bulkhead/domain-kit';
import { join } from 'node:path';
import { SALES_ENTITIES, SalesModule } from './sales.module';

/** The sample domain, as the platform sees it: registered by one line in `apps/domains.ts`. */
export const SALES_DOMAIN = defineDomain({
  name: 'sales',
  module: SalesModule,
  entities: SALES_ENTITIES,
  migrations: join(__dirname, '..', 'migrations'),
});

import { CONTROL_PLANE_MIGRATIONS } from '@bulkhead/control-plane';
import { migrationSource, MigrationSource } from '@bulkhead/database';
import { BulkheadDomain } from '@bulkhead/domain-kit';
import { join } from 'node:path';

/** What every tenant data set needs before any domain's tables: the protection function. */
export const TENANCY_MIGRATIONS = migrationSource('tenancy', 'tenant', join(__dirname, '..', 'migrations'));

/**
 * Every owner's migrations, in the order they apply: the control plane's catalogue, the tenancy
 * platform's part of the tenant set, then each domain's, in registration order.
 */
export function migrationSourcesFor(domains: readonly BulkheadDomain[]): MigrationSource[] {
  return [
    CONTROL_PLANE_MIGRATIONS,
    TENANCY_MIGRATIONS,
    ...domains.filter((domain) => domain.migrations).map((domain) => migrationSource(domain.name, 'tenant', domain.migrations as string)),
  ];
}

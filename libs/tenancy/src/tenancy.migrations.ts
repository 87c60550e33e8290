import { CONTROL_PLANE_MIGRATIONS } from '@bulkhead/control-plane';
import { migrationSource, MigrationSource } from '@bulkhead/database';
import { BulkheadDomain } from '@bulkhead/domain-kit';
import { join } from 'node:path';

/** What every tenant data set needs before any domain's tables: the protection function. */
export const TENANCY_MIGRATIONS = migrationSource('tenancy', 'tenant', join(__dirname, '..', 'migrations'));

/**
 * Every owner's migrations, in the order they apply: the control plane's catalogue (then the
 * platform features' control tables), the tenancy
 * platform's part of the tenant set, the platform features' (`definePlatformFeature`), then each
 * domain's; features and domains each in registration order.
 */
export function migrationSourcesFor(domains: readonly BulkheadDomain[]): MigrationSource[] {
  const sourceOf = (domain: BulkheadDomain) => migrationSource(domain.name, 'tenant', domain.migrations as string);
  const owning = domains.filter((domain) => domain.migrations);
  const controlOf = (domain: BulkheadDomain) =>
    migrationSource(domain.migrations ? `${domain.name}-control` : domain.name, 'control', domain.controlMigrations as string);
  return [
    CONTROL_PLANE_MIGRATIONS,
    ...domains.filter((domain) => domain.layer === 'platform' && domain.controlMigrations).map(controlOf),
    TENANCY_MIGRATIONS,
    ...owning.filter((domain) => domain.layer === 'platform').map(sourceOf),
    ...owning.filter((domain) => domain.layer !== 'platform').map(sourceOf),
  ];
}

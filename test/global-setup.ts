// globalSetup runs outside jest's module mapper: resolve @bulkhead/* through the tsconfig paths.
import 'tsconfig-paths/register';
import { loadConfig } from '../libs/config/src';
import { bootstrapDatabase, migrateDatabase } from '../libs/database/src';
import { migrationSourcesFor } from '../libs/tenancy/src';
import { DOMAINS } from '../apps/domains';
import { applyTestEnv } from './test-env';
import { citusClusterFromEnv, recreateCitusDatabase } from '../bench/citus/citus-cluster';
import { platformBuild } from './support/platform-build';

/** A fresh test database, built by the same bootstrap and migrations a user runs. */
export default async function globalSetup(): Promise<void> {
  applyTestEnv();
  const config = loadConfig();
  const urls = { adminUrl: config.DATABASE_ADMIN_URL, ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL };
  const citus = citusClusterFromEnv();
  if (citus) await recreateCitusDatabase(citus, urls);
  else await bootstrapDatabase(urls, { recreate: true });
  await migrateDatabase({ ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL, sources: migrationSourcesFor(DOMAINS) });
  // Compiled once here, before any test's clock runs: built by the first test that starts a child
  // process, it took that test's whole timeout on a slow machine (and both workers built it at once).
  platformBuild();
}

import { BulkheadConfig, loadConfig } from '@bulkhead/config';
import { FleetMigrator, TenantAdmin } from '@bulkhead/control-plane';
import { assertRedisReachable } from '@bulkhead/redis';
import { bootstrapDatabase, migrateDatabase, migrationLabel, MigrationOutcome } from '@bulkhead/database';
import { migrationSourcesFor } from '@bulkhead/tenancy';
import { Command } from 'commander';
import { DOMAINS } from '../../../domains';
import { print, withCliContext } from '../cli-context';

export async function setupDatabase(): Promise<void> {
  const config = loadConfig();
  await assertRedisReachable(config);
  for (const cluster of config.clusters) {
    // An extra cluster without an adminUrl has roles and a database the operator made.
    if (cluster.adminUrl) await bootstrapDatabase({ adminUrl: cluster.adminUrl, ownerUrl: cluster.ownerUrl, runtimeUrl: cluster.url });
  }
  await migrateSharedDatabases(config);
  // Tenants placed in their own schema or database carry the tenant set too: bring them along, so
  // running setup after an upgrade never leaves a placement behind the code that serves it.
  const reports = await withCliContext((context) => context.get(FleetMigrator).run({ concurrency: 8 }));
  const failed = reports.filter((r) => !r.ok);
  print(`schema and silo tenants: ${reports.length} placements, ${reports.filter((r) => r.applied.length).length} migrated, ${failed.length} failed`);
  for (const r of failed) print(`  failed: ${r.slug} (${r.tenantId}): ${r.error}`);
  if (failed.length) throw new Error(`${failed.length} tenant placement(s) could not be migrated; fix them and run \`npm run bulkhead -- migrate\``);
}

/** Cluster main's control plane and shared pool, then every other cluster's shared pool (its pool and schema tenants live there). */
async function migrateSharedDatabases(config: BulkheadConfig, dryRun?: boolean): Promise<void> {
  for (const cluster of config.clusters) {
    const outcomes = await migrateDatabase({ ownerUrl: cluster.ownerUrl, runtimeUrl: cluster.url, sources: migrationSourcesFor(DOMAINS), dryRun, controlPlane: cluster.key === 'main' });
    report(outcomes, cluster.key === 'main' ? '' : `${cluster.key}:`);
  }
}

function report(outcomes: MigrationOutcome[], prefix = ''): void {
  for (const outcome of outcomes) {
    const applied = outcome.applied.map(migrationLabel);
    const pending = outcome.pending.map(migrationLabel);
    if (pending.length) print(`${prefix}${outcome.target}: would apply ${pending.join(', ')}`);
    else print(`${prefix}${outcome.target}: ${applied.length ? 'applied ' + applied.join(', ') : 'up to date'}`);
  }
}

export function registerDatabaseCommands(program: Command): void {
  program
    .command('setup')
    .description('Create the database roles and database (needs DATABASE_ADMIN_URL; and on each extra cluster with an adminUrl), then apply all migrations: control plane, every cluster\'s shared pool, and every schema and silo tenant. Idempotent.')
    .action(setupDatabase);

  program
    .command('migrate')
    .description(
      'Apply pending migrations as the owner role: the control plane and every cluster\'s shared pool, then every schema and silo tenant ' +
        '(bounded concurrency; a failing tenant is reported and the run goes on; exits 1 if any failed; re-run to resume).',
    )
    .option('--dry-run', 'list what would be applied, change nothing')
    .option('--tenant <tenant>', 'only this tenant (id or slug); skips the control plane and pool')
    .option('--concurrency <n>', 'tenants migrated at once', '8')
    .action(async (options: { dryRun?: boolean; tenant?: string; concurrency: string }) => {
      const config = loadConfig();
      if (!options.tenant) {
        await migrateSharedDatabases(config, options.dryRun);
      }
      const started = Date.now();
      const reports = await withCliContext(async (context) => {
        const tenantId = options.tenant ? (await context.get(TenantAdmin).find(options.tenant)).id : undefined;
        return context.get(FleetMigrator).run({
          concurrency: Number(options.concurrency),
          dryRun: options.dryRun,
          tenantId,
          onReport: (r) => {
            const what = r.ok ? (r.pending.length ? `would apply ${r.pending.join(', ')}` : r.applied.length ? `applied ${r.applied.join(', ')}` : 'up to date') : `FAILED: ${r.error}`;
            print(`${r.model} ${r.slug} (${r.tenantId}): ${what} -> v${r.version}`);
          },
        });
      });
      const failed = reports.filter((r) => !r.ok);
      print(`${reports.length} tenant placements, ${failed.length} failed, ${((Date.now() - started) / 1000).toFixed(1)} s`);
      for (const r of failed) print(`  failed: ${r.slug} (${r.tenantId}): ${r.error}`);
      if (failed.length) process.exitCode = 1;
    });
}

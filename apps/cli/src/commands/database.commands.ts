import { loadConfig } from '@bulkhead/config';
import { assertRedisReachable, bootstrapDatabase, migrateDatabase, MigrationOutcome } from '@bulkhead/database';
import { Command } from 'commander';
import { print } from '../cli-context';

export async function setupDatabase(): Promise<void> {
  const config = loadConfig();
  await assertRedisReachable(config.REDIS_URL);
  await bootstrapDatabase({ adminUrl: config.DATABASE_ADMIN_URL, ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL });
  report(await migrateDatabase({ ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL }));
}

function report(outcomes: MigrationOutcome[]): void {
  for (const outcome of outcomes) {
    const applied = outcome.applied.map((m) => `${m.version}_${m.name}`);
    const pending = outcome.pending.map((m) => `${m.version}_${m.name}`);
    if (pending.length) print(`${outcome.target}: would apply ${pending.join(', ')}`);
    else print(`${outcome.target}: ${applied.length ? 'applied ' + applied.join(', ') : 'up to date'}`);
  }
}

export function registerDatabaseCommands(program: Command): void {
  program
    .command('setup')
    .description('Create the database roles and database (needs DATABASE_ADMIN_URL), then apply all migrations. Idempotent.')
    .action(setupDatabase);

  program
    .command('migrate')
    .description('Apply pending migrations as the owner role (DATABASE_OWNER_URL).')
    .option('--dry-run', 'list what would be applied, change nothing')
    .action(async (options: { dryRun?: boolean }) => {
      const config = loadConfig();
      report(await migrateDatabase({ ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL, dryRun: options.dryRun }));
    });
}

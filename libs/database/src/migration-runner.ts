import { Client } from 'pg';
import { loadMigrations, MigrationFile, MigrationSet } from './migration-files';
import { parsePgUrl, quoteIdent, withPg } from './pg-client';

export interface MigrationOutcome {
  target: string;
  applied: Array<{ version: number; name: string }>;
  pending: Array<{ version: number; name: string }>;
}

export interface MigrateOptions {
  ownerUrl: string;
  runtimeUrl: string;
  dryRun?: boolean;
}

const LEDGER = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    target      text        NOT NULL,
    version     integer     NOT NULL,
    name        text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target, version)
  )`;

/**
 * Applies the control set, then the tenant set to the shared pool (the public schema). Each file
 * runs in its own transaction under an advisory lock for its target, so two concurrent runs apply
 * each file once and a crash leaves every file either applied or not.
 */
export async function migrateDatabase(options: MigrateOptions): Promise<MigrationOutcome[]> {
  const runtimeRole = parsePgUrl(options.runtimeUrl).user;
  return withPg(options.ownerUrl, 'bulkhead-migrate', async (client) => {
    await client.query(LEDGER);
    return [
      await applySet(client, 'control', 'control', runtimeRole, options.dryRun ?? false),
      await applySet(client, 'tenant', 'pool', runtimeRole, options.dryRun ?? false),
    ];
  });
}

async function applySet(client: Client, set: MigrationSet, target: string, runtimeRole: string, dryRun: boolean): Promise<MigrationOutcome> {
  const outcome: MigrationOutcome = { target, applied: [], pending: [] };
  for (const migration of loadMigrations(set)) {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['bulkhead-migrate:' + target]);
      const done = await client.query<{ checksum: string }>(
        'SELECT checksum FROM schema_migrations WHERE target = $1 AND version = $2',
        [target, migration.version],
      );
      if (done.rowCount) {
        if (done.rows[0].checksum !== migration.checksum) {
          throw new Error(`Migration ${set}/${migration.version}_${migration.name} changed after it was applied to ${target}; add a new migration instead`);
        }
        await client.query('COMMIT');
        continue;
      }
      if (dryRun) {
        outcome.pending.push({ version: migration.version, name: migration.name });
        await client.query('ROLLBACK');
        continue;
      }
      await client.query(render(migration, runtimeRole));
      await client.query(
        'INSERT INTO schema_migrations (target, version, name, checksum) VALUES ($1, $2, $3, $4)',
        [target, migration.version, migration.name, migration.checksum],
      );
      await client.query('COMMIT');
      outcome.applied.push({ version: migration.version, name: migration.name });
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  }
  return outcome;
}

function render(migration: MigrationFile, runtimeRole: string): string {
  return migration.sql.replace(/(?<!:):runtime_role\b/g, quoteIdent(runtimeRole));
}

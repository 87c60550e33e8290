import { Client } from 'pg';
import { loadMigrations, MigrationFile, MigrationSet } from './migration-files';
import { parsePgUrl, quoteIdent, withPg } from './pg-client';

export interface MigrationOutcome {
  target: string;
  applied: Array<{ version: number; name: string }>;
  pending: Array<{ version: number; name: string }>;
  /** The highest version the target carries after this run (or would, for a dry run). */
  version: number;
}

export interface MigrateOptions {
  ownerUrl: string;
  runtimeUrl: string;
  dryRun?: boolean;
}

/** Where a migration set is applied: its ledger key, and the schema it runs in. */
export interface MigrationTarget {
  /** Ledger key: `control`, `pool`, `schema:<tenant id>` or `silo`. */
  ledger: string;
  /** Quoted identifier of the only schema on the search path while the set runs; public if absent. */
  schema?: string;
}

const SAFE_SCHEMA = /^"[a-z_][a-z0-9_]{0,62}"$/;

const LEDGER = `
  CREATE TABLE IF NOT EXISTS public.schema_migrations (
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
      await applyMigrationSet(client, 'control', { ledger: 'control' }, runtimeRole, options.dryRun ?? false),
      await applyMigrationSet(client, 'tenant', { ledger: 'pool' }, runtimeRole, options.dryRun ?? false),
    ];
  });
}

/**
 * Applies one set to one target on an owner connection: the building block of provisioning and
 * of fleet migrations. The ledger row is written in the same transaction as the migration, beside
 * the data it describes (same database), so re-running after a crash resumes exactly.
 */
export async function applyMigrationSet(
  client: Client,
  set: MigrationSet,
  target: MigrationTarget,
  runtimeRole: string,
  dryRun: boolean,
): Promise<MigrationOutcome> {
  if (target.schema !== undefined && !SAFE_SCHEMA.test(target.schema)) throw new Error(`Unsafe schema identifier ${target.schema}`);
  await client.query(LEDGER);
  const outcome: MigrationOutcome = { target: target.ledger, applied: [], pending: [], version: 0 };
  for (const migration of loadMigrations(set)) {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['bulkhead-migrate:' + target.ledger]);
      const done = await client.query<{ checksum: string }>(
        'SELECT checksum FROM public.schema_migrations WHERE target = $1 AND version = $2',
        [target.ledger, migration.version],
      );
      if (done.rowCount) {
        if (done.rows[0].checksum !== migration.checksum) {
          throw new Error(`Migration ${set}/${migration.version}_${migration.name} changed after it was applied to ${target.ledger}; add a new migration instead`);
        }
        await client.query('COMMIT');
        outcome.version = migration.version;
        continue;
      }
      if (dryRun) {
        outcome.pending.push({ version: migration.version, name: migration.name });
        outcome.version = migration.version;
        await client.query('ROLLBACK');
        continue;
      }
      if (target.schema) await client.query("SELECT set_config('search_path', $1, true)", [target.schema]);
      await client.query(render(migration, runtimeRole));
      await client.query(
        'INSERT INTO public.schema_migrations (target, version, name, checksum) VALUES ($1, $2, $3, $4)',
        [target.ledger, migration.version, migration.name, migration.checksum],
      );
      await client.query('COMMIT');
      outcome.applied.push({ version: migration.version, name: migration.name });
      outcome.version = migration.version;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
  return outcome;
}

function render(migration: MigrationFile, runtimeRole: string): string {
  return migration.sql.replace(/(?<!:):runtime_role\b/g, quoteIdent(runtimeRole));
}

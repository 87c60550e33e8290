import { Client } from 'pg';
import { loadMigrations, MigrationFile } from './migration-files';
import { MigrationSet, MigrationSource, sourcesOf } from './migration-source';
import { ensureLedger } from './migration-ledger';
import { parsePgUrl, quoteIdent, withPg } from './pg-client';
import { isSafeSearchPath } from './tenant-names';
import { DatabaseEngine, detectDatabaseEngine } from './database-engine';
import { splitStatements } from './sql-statements';

export interface AppliedMigration {
  owner: string;
  version: number;
  name: string;
}

export interface MigrationOutcome {
  target: string;
  applied: AppliedMigration[];
  pending: AppliedMigration[];
  /**
   * The target's data version: how many migrations of the set it carries after this run (or
   * would, for a dry run). Owners apply in order, so equal to the set's size means current.
   */
  version: number;
}

export interface MigrateOptions {
  ownerUrl: string;
  runtimeUrl: string;
  sources: readonly MigrationSource[];
  dryRun?: boolean;
  /** False for another cluster's shared database: the control plane lives on cluster main only. */
  controlPlane?: boolean;
}

/** Where a migration set is applied: its ledger key, and the schema it runs in. */
export interface MigrationTarget {
  /** Ledger key: `control`, `pool`, `schema:<tenant id>` or `silo`. */
  ledger: string;
  /** Quoted identifier of the only schema on the search path while the set runs; public if absent. */
  schema?: string;
}

/**
 * Applies the control set (unless told not to), then the tenant set to the shared pool (the public schema). Each file
 * runs in its own transaction under an advisory lock for its target, so two concurrent runs apply
 * each file once and a crash leaves every file either applied or not.
 */
export async function migrateDatabase(options: MigrateOptions): Promise<MigrationOutcome[]> {
  const runtimeRole = parsePgUrl(options.runtimeUrl).user;
  return withPg(options.ownerUrl, 'bulkhead-migrate', async (client) => [
    ...(options.controlPlane === false ? [] : [await applyMigrationSet(client, options.sources, 'control', { ledger: 'control' }, runtimeRole, options.dryRun ?? false)]),
    await applyMigrationSet(client, options.sources, 'tenant', { ledger: 'pool' }, runtimeRole, options.dryRun ?? false),
  ]);
}

/** Every migration of a set, in the order they apply: owners in registration order, then versions. */
export function migrationsOf(sources: readonly MigrationSource[], set: MigrationSet): MigrationFile[] {
  return sourcesOf(sources, set).flatMap(loadMigrations);
}

/**
 * Applies one set to one target on an owner connection: the building block of provisioning and
 * of fleet migrations. The ledger row is written in the same transaction as the migration, beside
 * the data it describes (same database), so re-running after a crash resumes exactly.
 */
export async function applyMigrationSet(
  client: Client,
  sources: readonly MigrationSource[],
  set: MigrationSet,
  target: MigrationTarget,
  runtimeRole: string,
  dryRun: boolean,
): Promise<MigrationOutcome> {
  if (target.schema !== undefined && !isSafeSearchPath(target.schema)) throw new Error(`Unsafe schema identifier ${target.schema}`);
  // Only a dry run can still see a ledger from before owners: it reads it without upgrading it.
  const legacy = await ensureLedger(client, sources, dryRun);
  const outcome: MigrationOutcome = { target: target.ledger, applied: [], pending: [], version: 0 };
  // Asked once, and only when there is a file to apply.
  let engine: DatabaseEngine | undefined;
  for (const migration of migrationsOf(sources, set)) {
    const entry = { owner: migration.owner, version: migration.version, name: migration.name };
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['bulkhead-migrate:' + target.ledger]);
      const done = legacy
        ? await legacyEntry(client, target.ledger, migration)
        : await client.query<{ checksum: string }>(
            'SELECT checksum FROM public.schema_migrations WHERE target = $1 AND owner = $2 AND version = $3',
            [target.ledger, migration.owner, migration.version],
          );
      outcome.version += 1;
      if (done.rowCount) {
        if (!legacy && done.rows[0].checksum !== migration.checksum && !migration.equivalentTo.includes(done.rows[0].checksum)) {
          throw new Error(`Migration ${migration.owner}/${migration.version}_${migration.name} changed after it was applied to ${target.ledger}; add a new migration instead`);
        }
        await client.query('COMMIT');
        continue;
      }
      if (dryRun) {
        outcome.pending.push(entry);
        await client.query('ROLLBACK');
        continue;
      }
      if (target.schema) await client.query("SELECT set_config('search_path', $1, true)", [target.schema]);
      // Read by bulkhead_protect_tenant_table on a Citus coordinator (tenancy's 0002); a custom
      // setting anywhere else, and gone at COMMIT.
      if (migration.citusTables === 'coordinator') await client.query("SELECT set_config('bulkhead.citus_tables', 'coordinator', true)");
      engine ??= await detectDatabaseEngine(client);
      if (engine === 'citus') {
        // Citus forwards the text of some DDL on distributed tables (ALTER TABLE, CREATE INDEX)
        // to the shards as one prepared statement, which refuses a multi-statement text.
        for (const statement of await splitStatements(render(migration, runtimeRole))) await client.query(statement);
      } else {
        await client.query(render(migration, runtimeRole));
      }
      await client.query(
        'INSERT INTO public.schema_migrations (target, owner, version, name, checksum) VALUES ($1, $2, $3, $4, $5)',
        [target.ledger, migration.owner, migration.version, migration.name, migration.checksum],
      );
      await client.query('COMMIT');
      outcome.applied.push(entry);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
  return outcome;
}

/** In a ledger from before owners, a file counts as applied when an entry it claims is there. */
async function legacyEntry(client: Client, target: string, migration: MigrationFile) {
  const versions = migration.legacy.filter((claim) => claim.set === migration.set).map((claim) => claim.version);
  return client.query<{ checksum: string }>('SELECT checksum FROM public.schema_migrations WHERE target = $1 AND version = ANY($2::int[])', [target, versions]);
}

function render(migration: MigrationFile, runtimeRole: string): string {
  return migration.sql.replace(/(?<!:):runtime_role\b/g, quoteIdent(runtimeRole));
}

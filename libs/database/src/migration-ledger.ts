import { Client } from 'pg';
import { loadMigrations, MigrationFile } from './migration-files';
import { MigrationSet, MigrationSource } from './migration-source';

const LEDGER = `
  CREATE TABLE IF NOT EXISTS public.schema_migrations (
    target      text        NOT NULL,
    owner       text        NOT NULL,
    version     integer     NOT NULL,
    name        text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target, owner, version)
  )`;

/**
 * Creates the ledger, or upgrades one written before migrations had owners. The old ledger kept
 * one sequence per set (`control` 1, 2; `tenant` 1, 2); each of today's files names the old entry
 * its content was applied under (`-- bulkhead:legacy tenant 1`), so the upgrade records them as
 * applied, per owner, without running anything again. It runs once, under a lock, in one
 * transaction: a crash leaves the old ledger intact for the next run. Answers whether the ledger
 * is still the old one (only a dry run leaves it so).
 */
export async function ensureLedger(client: Client, sources: readonly MigrationSource[], dryRun: boolean): Promise<boolean> {
  // One round trip in the common case (a current ledger): a fleet run asks this of every placement.
  const [state] = (
    await client.query<{ present: boolean; owned: boolean }>(
      `SELECT to_regclass('public.schema_migrations') IS NOT NULL AS present,
              EXISTS (SELECT 1 FROM information_schema.columns c
                       WHERE c.table_schema = 'public' AND c.table_name = 'schema_migrations' AND c.column_name = 'owner') AS owned`,
    )
  ).rows;
  if (state.present && state.owned) return false;
  if (!state.present) {
    if (!dryRun) await client.query(LEDGER);
    return false;
  }
  if (dryRun) return true;
  const files = sources.flatMap(loadMigrations);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['bulkhead-ledger-upgrade']);
    const upgraded = await client.query(
      "SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'schema_migrations' AND column_name = 'owner'",
    );
    // Another run upgraded it while this one waited for the lock.
    if (upgraded.rowCount) {
      await client.query('COMMIT');
      return false;
    }
    const rows = await client.query<{ target: string; version: number; applied_at: Date }>(
      'SELECT target, version, applied_at FROM public.schema_migrations ORDER BY target, version',
    );
    await client.query('ALTER TABLE public.schema_migrations DROP CONSTRAINT schema_migrations_pkey');
    await client.query('ALTER TABLE public.schema_migrations ADD COLUMN owner text');
    for (const row of rows.rows) {
      const set: MigrationSet = row.target === 'control' ? 'control' : 'tenant';
      const claimants = claimantsOf(files, set, row.version);
      if (claimants.length === 0) {
        throw new Error(`Ledger upgrade: ${row.target} carries ${set} migration ${row.version} from before owners, and no registered migration claims it`);
      }
      for (const file of claimants) {
        await client.query(
          `INSERT INTO public.schema_migrations (target, owner, version, name, checksum, applied_at) VALUES ($1, $2, $3, $4, $5, $6)`,
          [row.target, file.owner, file.version, file.name, file.checksum, row.applied_at],
        );
      }
    }
    await client.query('DELETE FROM public.schema_migrations WHERE owner IS NULL');
    await client.query('ALTER TABLE public.schema_migrations ALTER COLUMN owner SET NOT NULL');
    await client.query('ALTER TABLE public.schema_migrations ADD PRIMARY KEY (target, owner, version)');
    await client.query('COMMIT');
    return false;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

function claimantsOf(files: MigrationFile[], set: MigrationSet, version: number): MigrationFile[] {
  return files.filter((file) => file.set === set && file.legacy.some((claim) => claim.set === set && claim.version === version));
}

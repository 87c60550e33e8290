import { Client } from 'pg';
import { applyMigrationSet, MigrationOutcome, migrationsOf } from './migration-runner';
import { MigrationSource } from './migration-source';
import { connectPg, parsePgUrl, quoteIdent, withPg } from './pg-client';
import { isDatabaseName, isSchemaName } from './tenant-names';

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = '/' + database;
  return parsed.toString();
}

export interface StorageOptions {
  sources: readonly MigrationSource[];
  dryRun?: boolean;
  /** An owner connection to reuse (a fleet run keeps one per lane): a thousand schemas, a handful of connections. */
  client?: Client;
}

/**
 * Creates a tenant's schema and brings it to the latest tenant migrations. Idempotent: every step
 * is IF NOT EXISTS or guarded by the ledger, so a second run, or a run after a crash half way,
 * ends in the same state.
 */
export async function provisionSchema(ownerUrl: string, runtimeUrl: string, schemaName: string, tenantId: string, options: StorageOptions): Promise<MigrationOutcome> {
  if (!isSchemaName(schemaName)) throw new Error(`unsafe schema name ${schemaName}`);
  const runtimeRole = parsePgUrl(runtimeUrl).user;
  const work = async (client: Client) => {
    if (!options.dryRun) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schemaName)}`);
      await client.query(`REVOKE ALL ON SCHEMA ${quoteIdent(schemaName)} FROM PUBLIC`);
      await client.query(`GRANT USAGE ON SCHEMA ${quoteIdent(schemaName)} TO ${quoteIdent(runtimeRole)}`);
    }
    return applyMigrationSet(client, options.sources, 'tenant', { ledger: `schema:${tenantId}`, schema: quoteIdent(schemaName) }, runtimeRole, options.dryRun ?? false);
  };
  return options.client ? work(options.client) : withPg(ownerUrl, 'bulkhead-provision', work);
}

const LOCK_NOT_AVAILABLE = '55P03';

/** Whether a statement gave up waiting for a lock (`lock_timeout`): someone else holds it, for now. */
export function isLockTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === LOCK_NOT_AVAILABLE;
}

/**
 * One attempt at dropping a tenant's schema with everything in it, and its ledger entries (so a
 * later provisioning starts afresh), waiting at most `lockTimeoutMs` for its locks (SET LOCAL: the
 * timeout ends with the transaction and never outlives it on the connection). While a DROP waits
 * for its AccessExclusive lock, every later query on the schema's tables queues behind it: a
 * straggler's lock would stall them all. Throws the lock timeout (`isLockTimeout`), rolled back,
 * for the caller to rest out of the lock queue and try again by its own policy.
 */
export async function dropSchemaOnce(client: Client, schemaName: string, tenantId: string, lockTimeoutMs: number): Promise<void> {
  if (!isSchemaName(schemaName)) throw new Error(`unsafe schema name ${schemaName}`);
  try {
    await client.query('START TRANSACTION');
    await client.query(`SET LOCAL lock_timeout = '${Math.max(1, Math.floor(lockTimeoutMs))}ms'`);
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schemaName)} CASCADE`);
    await client.query('DELETE FROM public.schema_migrations WHERE target = $1', [`schema:${tenantId}`]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Creates a tenant's own database on its cluster and brings it to the latest tenant migrations. Idempotent. */
export async function provisionSilo(ownerUrl: string, runtimeUrl: string, databaseName: string, options: StorageOptions): Promise<MigrationOutcome> {
  if (!isDatabaseName(databaseName)) throw new Error(`unsafe database name ${databaseName}`);
  const runtimeRole = parsePgUrl(runtimeUrl).user;
  if (options.dryRun) {
    const exists = await withPg(ownerUrl, 'bulkhead-provision', (client) => client.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseName]));
    if (!exists.rowCount) {
      const pending = migrationsOf(options.sources, 'tenant').map((m) => ({ owner: m.owner, version: m.version, name: m.name }));
      return { target: 'silo', applied: [], pending, version: pending.length };
    }
    const silo = await connectPg(withDatabase(ownerUrl, databaseName), 'bulkhead-provision');
    try {
      return await applyMigrationSet(silo, options.sources, 'tenant', { ledger: 'silo' }, runtimeRole, true);
    } finally {
      await silo.end();
    }
  }
  await withPg(ownerUrl, 'bulkhead-provision', async (client) => {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseName]);
    if (!exists.rowCount) {
      try {
        await client.query(`CREATE DATABASE ${quoteIdent(databaseName)}`);
      } catch (error) {
        // A concurrent provisioning of the same tenant created it first: same end state.
        if ((error as { code?: string }).code !== '42P04') throw error;
      }
    }
    await client.query(`REVOKE ALL ON DATABASE ${quoteIdent(databaseName)} FROM PUBLIC`);
    await client.query(`GRANT CONNECT ON DATABASE ${quoteIdent(databaseName)} TO ${quoteIdent(runtimeRole)}`);
  });
  const silo = await connectPg(withDatabase(ownerUrl, databaseName), 'bulkhead-provision');
  try {
    await silo.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    await silo.query(`GRANT USAGE ON SCHEMA public TO ${quoteIdent(runtimeRole)}`);
    return await applyMigrationSet(silo, options.sources, 'tenant', { ledger: 'silo' }, runtimeRole, false);
  } finally {
    await silo.end();
  }
}

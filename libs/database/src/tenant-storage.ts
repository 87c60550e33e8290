import { Client } from 'pg';
import { loadMigrations } from './migration-files';
import { applyMigrationSet, MigrationOutcome } from './migration-runner';
import { connectPg, parsePgUrl, quoteIdent, withPg } from './pg-client';

const SCHEMA_NAME = /^t_[0-9a-f]{32}$/;
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,20}_t_[0-9a-f]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `t_<tenant id without dashes>`: derived from the id, never from input, so always a safe identifier. */
export function schemaNameFor(tenantId: string): string {
  if (!UUID.test(tenantId)) throw new Error('tenant id must be a canonical uuid');
  return `t_${tenantId.replace(/-/g, '')}`;
}

/** `<cluster database>_t_<tenant id>`: tied to the cluster's database so test and dev silos never mix. */
export function databaseNameFor(tenantId: string, clusterDatabase: string): string {
  if (!UUID.test(tenantId)) throw new Error('tenant id must be a canonical uuid');
  const name = `${clusterDatabase}_t_${tenantId.replace(/-/g, '')}`;
  if (!DATABASE_NAME.test(name)) throw new Error(`cluster database name ${clusterDatabase} is too long or unsafe for silo names`);
  return name;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = '/' + database;
  return parsed.toString();
}

/**
 * Creates a tenant's schema and brings it to the latest tenant migration. Idempotent: every step
 * is IF NOT EXISTS or guarded by the ledger, so a second run, or a run after a crash half way,
 * ends in the same state.
 */
export async function provisionSchema(
  ownerUrl: string,
  runtimeUrl: string,
  schemaName: string,
  tenantId: string,
  options: { dryRun?: boolean; client?: Client } = {},
): Promise<MigrationOutcome> {
  if (!SCHEMA_NAME.test(schemaName)) throw new Error(`unsafe schema name ${schemaName}`);
  const runtimeRole = parsePgUrl(runtimeUrl).user;
  const work = async (client: Client) => {
    if (!options.dryRun) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schemaName)}`);
      await client.query(`REVOKE ALL ON SCHEMA ${quoteIdent(schemaName)} FROM PUBLIC`);
      await client.query(`GRANT USAGE ON SCHEMA ${quoteIdent(schemaName)} TO ${quoteIdent(runtimeRole)}`);
    }
    return applyMigrationSet(client, 'tenant', { ledger: `schema:${tenantId}`, schema: quoteIdent(schemaName) }, runtimeRole, options.dryRun ?? false);
  };
  // A fleet run passes one owner connection per lane: a thousand schemas, a handful of connections.
  return options.client ? work(options.client) : withPg(ownerUrl, 'bulkhead-provision', work);
}

/** Creates a tenant's own database on its cluster and brings it to the latest tenant migration. Idempotent. */
export async function provisionSilo(
  ownerUrl: string,
  runtimeUrl: string,
  databaseName: string,
  options: { dryRun?: boolean } = {},
): Promise<MigrationOutcome> {
  if (!DATABASE_NAME.test(databaseName)) throw new Error(`unsafe database name ${databaseName}`);
  const runtimeRole = parsePgUrl(runtimeUrl).user;
  if (options.dryRun) {
    const exists = await withPg(ownerUrl, 'bulkhead-provision', (client) => client.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseName]));
    if (!exists.rowCount) {
      const pending = loadMigrations('tenant').map((m) => ({ version: m.version, name: m.name }));
      return { target: 'silo', applied: [], pending, version: pending.length ? pending[pending.length - 1].version : 0 };
    }
    const silo = await connectPg(withDatabase(ownerUrl, databaseName), 'bulkhead-provision');
    try {
      return await applyMigrationSet(silo, 'tenant', { ledger: 'silo' }, runtimeRole, true);
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
    return await applyMigrationSet(silo, 'tenant', { ledger: 'silo' }, runtimeRole, false);
  } finally {
    await silo.end();
  }
}

import { loadConfig } from '@bulkhead/config';
import {
  bootstrapDatabase,
  databaseNameFor,
  migrateDatabase,
  migrationLabel,
  migrationsOf,
  parsePgUrl,
  provisionSchema,
  provisionSilo,
  quoteIdent,
  schemaNameFor,
  withDatabase,
  withPg,
} from '@bulkhead/database';
import { migrationSourcesFor } from '@bulkhead/tenancy';
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { DOMAINS } from '../apps/domains';

const LEGACY = join(__dirname, 'fixtures', 'main-before-owners');
const OLD_LEDGER = `CREATE TABLE IF NOT EXISTS public.schema_migrations (
  target text NOT NULL, version integer NOT NULL, name text NOT NULL, checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (target, version))`;

/**
 * A database built the way main built it before migrations had owners (one global sequence per
 * set, the same files, the same ledger), with a pool, a schema and a silo tenant holding data.
 * Today's runner must upgrade it in place: nothing applied again, every row kept, and only the
 * migrations that did not exist then (the projects domain) applied.
 */
describe('ledger upgrade from main before owners', () => {
  const base = loadConfig();
  const database = `${parsePgUrl(base.DATABASE_URL).database.slice(0, 17)}_lg`;
  const ownerUrl = withDatabase(base.DATABASE_OWNER_URL, database);
  const runtimeUrl = withDatabase(base.DATABASE_URL, database);
  const runtimeRole = parsePgUrl(runtimeUrl).user;
  const sources = migrationSourcesFor(DOMAINS);
  const tenants = { pool: randomUUID(), schema: randomUUID(), silo: randomUUID() };
  const schema = schemaNameFor(tenants.schema);
  const silo = databaseNameFor(tenants.silo, database);
  const newSinceMain = migrationsOf(sources, 'tenant').filter((m) => m.legacy.length === 0).map(migrationLabel);
  // The control catalogue's migrations since then (tenant moves: placement versions and the moves table; platform features' control tables: lifecycle, flags, noisy-neighbour history).
  const controlSinceMain = migrationsOf(sources, 'control').filter((m) => m.legacy.length === 0).map(migrationLabel);

  /** What main's runner did: each file in its own transaction, recorded as (target, version). */
  async function applyAsMainDid(client: Client, set: 'control' | 'tenant', target: string, searchPath?: string): Promise<void> {
    await client.query(OLD_LEDGER);
    for (const file of readdirSync(join(LEGACY, set)).sort()) {
      const [, version, name] = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file) as RegExpExecArray;
      const sql = readFileSync(join(LEGACY, set, file), 'utf8');
      await client.query('BEGIN');
      if (searchPath) await client.query("SELECT set_config('search_path', $1, true)", [quoteIdent(searchPath)]);
      await client.query(sql.replace(/(?<!:):runtime_role\b/g, quoteIdent(runtimeRole)));
      await client.query('INSERT INTO public.schema_migrations (target, version, name, checksum) VALUES ($1, $2, $3, $4)', [
        target,
        Number(version),
        name,
        createHash('sha256').update(sql).digest('hex'),
      ]);
      await client.query('COMMIT');
    }
  }

  async function addCustomer(client: Client, tenantId: string, searchPath = 'public'): Promise<void> {
    await client.query('BEGIN');
    await client.query("SELECT set_config('app.tenant_id', $1, true), set_config('search_path', $2, true)", [tenantId, quoteIdent(searchPath)]);
    await client.query("INSERT INTO customers (tenant_id, id, email, name) VALUES ($1, $2, 'kept@legacy.test', 'Kept')", [tenantId, randomUUID()]);
    await client.query('COMMIT');
  }

  async function customers(url: string, tenantId: string, searchPath = 'public'): Promise<number> {
    return withPg(url, 'ledger-test', async (client) => {
      await client.query('BEGIN');
      await client.query("SELECT set_config('app.tenant_id', $1, true), set_config('search_path', $2, true)", [tenantId, quoteIdent(searchPath)]);
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM customers');
      await client.query('COMMIT');
      return rows[0].n;
    });
  }

  async function ledger(url: string, target: string): Promise<Array<{ owner: string; version: number }>> {
    return withPg(url, 'ledger-test', async (client) => {
      const { rows } = await client.query<{ owner: string; version: number }>(
        'SELECT owner, version FROM public.schema_migrations WHERE target = $1 ORDER BY owner, version',
        [target],
      );
      return rows;
    });
  }

  beforeAll(async () => {
    await bootstrapDatabase({ adminUrl: base.DATABASE_ADMIN_URL, ownerUrl, runtimeUrl }, { recreate: true });
    await withPg(ownerUrl, 'ledger-test', async (owner) => {
      await applyAsMainDid(owner, 'control', 'control');
      await applyAsMainDid(owner, 'tenant', 'pool');
      await owner.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
      await owner.query(`GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(runtimeRole)}`);
      await applyAsMainDid(owner, 'tenant', `schema:${tenants.schema}`, schema);
      await owner.query(`CREATE DATABASE ${quoteIdent(silo)}`);
      await owner.query(
        `INSERT INTO tenants (id, slug, name, tier, isolation, status, region, cluster, schema_name, database_name, data_version) VALUES
           ($1, 'legacy-pool', 'Pool', 'free', 'pool', 'active', 'local', 'main', NULL, NULL, 0),
           ($2, 'legacy-schema', 'Schema', 'pro', 'schema', 'active', 'local', 'main', $4, NULL, 2),
           ($3, 'legacy-silo', 'Silo', 'enterprise', 'silo', 'active', 'local', 'main', NULL, $5, 2)`,
        [tenants.pool, tenants.schema, tenants.silo, schema, silo],
      );
      await addCustomer(owner, tenants.pool);
      await addCustomer(owner, tenants.schema, schema);
    });
    await withPg(withDatabase(ownerUrl, silo), 'ledger-test', async (owner) => {
      await applyAsMainDid(owner, 'tenant', 'silo');
      await addCustomer(owner, tenants.silo);
    });
  }, 60_000);

  afterAll(async () => {
    await withPg(base.DATABASE_ADMIN_URL, 'ledger-test', async (admin) => {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(silo)} WITH (FORCE)`);
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
    });
  });

  it('a dry run reads the old ledger without changing it, and lists only what is new since main', async () => {
    const [control, pool] = await migrateDatabase({ ownerUrl, runtimeUrl, sources, dryRun: true });
    expect(control.pending.map(migrationLabel)).toEqual(controlSinceMain);
    expect(pool.pending.map(migrationLabel)).toEqual(newSinceMain);
    const columns = await withPg(ownerUrl, 'ledger-test', (client) =>
      client.query("SELECT 1 FROM information_schema.columns WHERE table_name = 'schema_migrations' AND column_name = 'owner'"),
    );
    expect(columns.rowCount).toBe(0);
  });

  it('upgrades every ledger in place, applies only what is new, and keeps every row', async () => {
    expect(newSinceMain.length).toBeGreaterThan(0);
    const [control, pool] = await migrateDatabase({ ownerUrl, runtimeUrl, sources });
    expect(control.applied.map(migrationLabel)).toEqual(controlSinceMain);
    expect(pool.applied.map(migrationLabel)).toEqual(newSinceMain);
    const inSchema = await provisionSchema(ownerUrl, runtimeUrl, schema, tenants.schema, { sources });
    expect(inSchema.applied.map(migrationLabel)).toEqual(newSinceMain);
    const inSilo = await provisionSilo(ownerUrl, runtimeUrl, silo, { sources });
    expect(inSilo.applied.map(migrationLabel)).toEqual(newSinceMain);

    const everyOwner = migrationsOf(sources, 'tenant').map((m) => ({ owner: m.owner, version: m.version }));
    const sorted = [...everyOwner].sort((a, b) => a.owner.localeCompare(b.owner) || a.version - b.version);
    const everyControl = migrationsOf(sources, 'control').map((m) => ({ owner: m.owner, version: m.version }));
    expect(await ledger(ownerUrl, 'control')).toEqual([...everyControl].sort((a, b) => a.owner.localeCompare(b.owner) || a.version - b.version));
    expect(await ledger(ownerUrl, 'pool')).toEqual(sorted);
    expect(await ledger(ownerUrl, `schema:${tenants.schema}`)).toEqual(sorted);
    expect(await ledger(withDatabase(ownerUrl, silo), 'silo')).toEqual(sorted);

    expect(await customers(ownerUrl, tenants.pool)).toBe(1);
    expect(await customers(ownerUrl, tenants.schema, schema)).toBe(1);
    expect(await customers(withDatabase(ownerUrl, silo), tenants.silo)).toBe(1);
  });

  it('a second run finds everything applied', async () => {
    const [control, pool] = await migrateDatabase({ ownerUrl, runtimeUrl, sources });
    expect([control.applied, pool.applied]).toEqual([[], []]);
    expect((await provisionSchema(ownerUrl, runtimeUrl, schema, tenants.schema, { sources })).applied).toEqual([]);
    expect((await provisionSilo(ownerUrl, runtimeUrl, silo, { sources })).applied).toEqual([]);
    expect(pool.version).toBe(migrationsOf(sources, 'tenant').length);
  });
});

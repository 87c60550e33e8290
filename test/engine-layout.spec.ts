import { loadConfig } from '@bulkhead/config';
import { bootstrapDatabase, DatabaseEngine, detectDatabaseEngine, migrateDatabase, parsePgUrl, withDatabase, withPg } from '@bulkhead/database';
import { migrationSourcesFor } from '@bulkhead/tenancy';
import { DOMAINS } from '../apps/domains';
import { citusClusterFromEnv, recreateCitusDatabase } from '../bench/citus/citus-cluster';
import { call } from './support/http';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';

/**
 * The pool laid out for the engine it runs on: plain PostgreSQL as before; on a Citus coordinator
 * (BULKHEAD_TEST_CITUS_URL, docs/citus.md) tenant tables distributed by tenant_id in one
 * colocation group, the audit trail on the coordinator, sub-select-free policies, the runtime
 * role propagating SET LOCAL, and a large tenant isolated to a shard of its own still served
 * and still scoped.
 */
describe('pool layout for the database engine', () => {
  const config = loadConfig();
  const superuser = withDatabase(config.DATABASE_ADMIN_URL, parsePgUrl(config.DATABASE_URL).database);
  const admin = <T>(work: (client: import('pg').Client) => Promise<T>) => withPg(superuser, 'engine-layout-test', work);
  let engine: DatabaseEngine;

  beforeAll(async () => {
    engine = await admin(detectDatabaseEngine);
  });

  it('writes policies in the form the engine accepts', async () => {
    const policies = await admin((client) =>
      client.query<{ qual: string }>("SELECT pg_get_expr(polqual, polrelid) AS qual FROM pg_policy WHERE polrelid = 'public.orders'::regclass AND polcmd = 'r'"),
    );
    expect(policies.rows).toHaveLength(1);
    // Citus refuses sub-selects in policies on distributed tables; PostgreSQL keeps the one-evaluation form.
    expect(/\(\s*SELECT /i.test(policies.rows[0].qual)).toBe(engine === 'postgres');
  });

  it('distributes the pool tenant tables by tenant_id in one colocation group on Citus, and keeps audit and metering on the coordinator', async () => {
    const tenantTables = await admin((client) =>
      client.query<{ table: string }>(
        "SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1",
      ),
    );
    const names = tenantTables.rows.map((row) => row.table);
    expect(names).toEqual(expect.arrayContaining(['customers', 'orders', 'projects', 'usage_events', 'idempotency_keys', 'audit_entries']));
    if (engine === 'postgres') {
      // Nothing of Citus on plain PostgreSQL.
      expect((await admin((client) => client.query("SELECT 1 FROM pg_extension WHERE extname = 'citus'"))).rowCount).toBe(0);
      return;
    }
    const distributed = await admin((client) =>
      client.query<{ table: string; column: string; colocation: number }>(
        "SELECT logicalrelid::regclass::text AS table, column_to_column_name(logicalrelid, partkey) AS column, colocationid AS colocation FROM pg_dist_partition WHERE partmethod = 'h'",
      ),
    );
    // Audit and metering keep their tables on the coordinator (their triggers and quota upsert).
    const coordinator = names.filter((name) => name.startsWith('audit_') || name.startsWith('usage_'));
    expect(coordinator.length).toBeGreaterThan(0);
    expect(distributed.rows.map((row) => row.table).sort()).toEqual(names.filter((name) => !coordinator.includes(name)));
    expect(new Set(distributed.rows.map((row) => row.column))).toEqual(new Set(['tenant_id']));
    expect(new Set(distributed.rows.map((row) => row.colocation)).size).toBe(1);
    const runtimeSetting = await admin((client) =>
      client.query("SELECT 1 FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = $1 AND s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND 'citus.propagate_set_commands=local' = ANY (s.setconfig)", [
        parsePgUrl(config.DATABASE_URL).user,
      ]),
    );
    expect(runtimeSetting.rowCount).toBe(1);
  });

  describe('a large pool tenant on a shard of its own', () => {
    // Its own database: splitting a shard under the shared test database would fail the other
    // suites' multi-shard statements (those without a tenant predicate) while it runs.
    const database = `${parsePgUrl(config.DATABASE_URL).database.slice(0, 17)}_iso`;
    const urls = {
      adminUrl: config.DATABASE_ADMIN_URL,
      ownerUrl: withDatabase(config.DATABASE_OWNER_URL, database),
      runtimeUrl: withDatabase(config.DATABASE_URL, database),
    };
    let isolatedApi: TestApi;

    beforeAll(async () => {
      const citus = citusClusterFromEnv();
      if (citus) await recreateCitusDatabase(citus, urls);
      else await bootstrapDatabase(urls, { recreate: true });
      await migrateDatabase({ ownerUrl: urls.ownerUrl, runtimeUrl: urls.runtimeUrl, sources: migrationSourcesFor(DOMAINS) });
      isolatedApi = await startTestApi({ DATABASE_URL: urls.runtimeUrl, DATABASE_OWNER_URL: urls.ownerUrl });
    });
    afterAll(async () => {
      await isolatedApi?.close();
      await withPg(config.DATABASE_ADMIN_URL, 'engine-layout-test', (client) => client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
    });

    it('is served and still scoped after isolate_tenant_to_new_shard (Citus), as any pool tenant (PostgreSQL)', async () => {
      const api = isolatedApi;
      const big = await createTenant(api, { tier: 'free' });
      const other = await createTenant(api, { tier: 'free' });
      const created = await call(api.server, 'post', '/v1/customers', tokenFor(api, big), { email: 'big@example.com', name: 'Big' });
      expect(created.status).toBe(201);
      expect((await call(api.server, 'post', '/v1/customers', tokenFor(api, other), { email: 'other@example.com', name: 'Other' })).status).toBe(201);
      if (engine === 'citus') {
        await withPg(withDatabase(config.DATABASE_ADMIN_URL, database), 'engine-layout-test', async (client) => {
          await client.query("SELECT isolate_tenant_to_new_shard('customers', $1::uuid, 'CASCADE', shard_transfer_mode => 'block_writes')", [big.id]);
          // The tenant's shard covers its hash value alone.
          const shard = await client.query<{ min: string; max: string }>(
            "SELECT shardminvalue AS min, shardmaxvalue AS max FROM pg_dist_shard WHERE shardid = get_shard_id_for_distribution_column('customers', $1::uuid)",
            [big.id],
          );
          expect(shard.rows[0].min).toBe(shard.rows[0].max);
        });
      }
      // Reads and writes of the isolated tenant go on; the neighbour's token still cannot reach its rows.
      expect((await call(api.server, 'get', `/v1/customers/${created.body.id}`, tokenFor(api, big))).status).toBe(200);
      expect((await call(api.server, 'post', '/v1/customers', tokenFor(api, big), { email: 'big2@example.com', name: 'Big 2' })).status).toBe(201);
      const list = await call(api.server, 'get', '/v1/customers', tokenFor(api, big));
      expect(list.body.items.map((item: { name: string }) => item.name).sort()).toEqual(['Big', 'Big 2']);
      expect((await call(api.server, 'get', `/v1/customers/${created.body.id}`, tokenFor(api, other))).status).toBe(404);
    });
  });
});

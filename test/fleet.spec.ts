import { loadConfig } from '@bulkhead/config';
import { migrationsOf, withPg } from '@bulkhead/database';
import { migrationSourcesFor } from '@bulkhead/tenancy';
import { DOMAINS } from '../apps/domains';
import { call, expectProblem } from './support/http';
import { runCli } from './support/cli';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';

/** Provisioning and fleet migrations across schema and silo tenants. */
describe('fleet migrations', () => {
  let api: TestApi;
  const config = loadConfig();
  /** Every tenant migration of every owner: the data version of a current placement. */
  const CURRENT = migrationsOf(migrationSourcesFor(DOMAINS), 'tenant').length;

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  /** Takes sales migration 2 (and the later ones, which alter its tables) back out of a schema, as if the schema were created before it existed. */
  async function unapplyLatest(schema: string, tenantId: string, leaveConflict: boolean): Promise<void> {
    await withPg(config.DATABASE_OWNER_URL, 'fleet-test', async (owner) => {
      await owner.query(`DROP TABLE "${schema}".customer_order_totals, "${schema}".order_exports`);
      await owner.query("DELETE FROM public.schema_migrations WHERE target = $1 AND owner = 'sales' AND version >= 2", [`schema:${tenantId}`]);
      // Something in the way of the migration: its CREATE TABLE will fail.
      if (leaveConflict) await owner.query(`CREATE TABLE "${schema}".order_exports (id int)`);
    });
  }

  it('continues past one failing tenant, names it, exits non-zero, and completes on a re-run after the fix', async () => {
    const healthy = await createTenant(api, { tier: 'pro' });
    const broken = await createTenant(api, { tier: 'pro' });
    expect([healthy.isolation, broken.isolation]).toEqual(['schema', 'schema']);
    await unapplyLatest(healthy.schemaName as string, healthy.id, false);
    await unapplyLatest(broken.schemaName as string, broken.id, true);

    const dry = runCli(['migrate', '--dry-run', '--tenant', healthy.id]);
    expect(dry.stdout).toContain(`would apply sales/2_exports_and_totals`);

    const first = runCli(['migrate', '--concurrency', '4']);
    expect(first.status).toBe(1);
    expect(first.stdout).toContain(`${healthy.slug} (${healthy.id}): applied sales/2_exports_and_totals, sales/3_export_failure_reason -> v${CURRENT}`);
    expect(first.stdout).toMatch(new RegExp(`failed: ${broken.slug} \\(${broken.id}\\): .*already exists`));
    // Other suites' tenants share this database; this run's own failure is the broken tenant alone.
    const failedLines = first.stdout.split('\n').filter((line) => line.startsWith('  failed: '));
    expect(failedLines.filter((line) => line.includes(healthy.id))).toEqual([]);
    expect(failedLines.filter((line) => line.includes(broken.id))).toHaveLength(1);

    // The healthy tenant works again, at the version recorded in the control plane.
    const token = tokenFor(api, healthy);
    expect((await call(api.server, 'post', '/v1/exports', token)).status).toBe(202);
    const versions = await withPg(config.DATABASE_OWNER_URL, 'fleet-test', (owner) =>
      owner.query<{ data_version: number }>('SELECT data_version FROM tenants WHERE id = $1', [healthy.id]),
    );
    expect(versions.rows[0].data_version).toBe(CURRENT);

    await withPg(config.DATABASE_OWNER_URL, 'fleet-test', (owner) => owner.query(`DROP TABLE "${broken.schemaName}".order_exports`));
    const second = runCli(['migrate', '--tenant', broken.slug]);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain(`${broken.slug} (${broken.id}): applied sales/2_exports_and_totals, sales/3_export_failure_reason -> v${CURRENT}`);
    const again = runCli(['migrate', '--tenant', broken.slug]);
    expect(again.stdout).toContain(`up to date -> v${CURRENT}`);
  }, 120_000);

  it('answers a placement behind the code 503 placement_outdated with Retry-After, not 500, until it is migrated', async () => {
    const behind = await createTenant(api, { tier: 'pro' });
    await unapplyLatest(behind.schemaName as string, behind.id, false);
    const token = tokenFor(api, behind);
    for (const response of [await call(api.server, 'get', '/v1/customer-totals', token), await call(api.server, 'post', '/v1/exports', token)]) {
      expectProblem(response, 503, 'placement_outdated');
      expect(response.headers['retry-after']).toBe('30');
    }
    // What the migration did not touch keeps working meanwhile.
    expect((await call(api.server, 'get', '/v1/orders', token)).status).toBe(200);
    expect(runCli(['migrate', '--tenant', behind.id]).status).toBe(0);
    expect((await call(api.server, 'get', '/v1/customer-totals', token)).status).toBe(200);
  }, 60_000);

  it('provisions idempotently: running it again changes nothing, and a hostile slug never reaches DDL', async () => {
    const silo = await createTenant(api, { tier: 'enterprise', slug: 'drop-database-x' });
    expect(silo).toMatchObject({ isolation: 'silo', status: 'active', dataVersion: CURRENT });
    expect(silo.databaseName).toMatch(new RegExp(`^${config.DATABASE_URL.split('/').pop()}_t_[0-9a-f]{32}$`));
    expect(await api.admin.provision(silo.id)).toMatchObject({ status: 'active', dataVersion: CURRENT });
    const token = tokenFor(api, silo);
    expect((await call(api.server, 'post', '/v1/customers', token, { email: 's@silo.test', name: 'Silo' })).status).toBe(201);
    expectProblem(await call(api.server, 'post', '/v1/admin/tenants', tokenFor(api, silo), { slug: 'x', name: 'x', tier: 'free' }), 403);
  }, 60_000);
});

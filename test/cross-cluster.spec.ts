import { clearPrivateJobQueue } from './support/private-job-queue';
import { randomUUID } from 'node:crypto';
import { AuditChainer } from '@bulkhead/audit';
import { IsolationModel } from '@bulkhead/config';
import { ClusterRegistry, TenantRepository } from '@bulkhead/control-plane';
import { bootstrapDatabase, migrateDatabase, parsePgUrl, withPg } from '@bulkhead/database';
import { FleetDoctor, migrationSourcesFor, runWithTenant, TenantData, tenantContextOf } from '@bulkhead/tenancy';
import { DOMAINS } from '../apps/domains';
import { MoveRecord, TenantMover } from '@bulkhead/tenant-moves';
import { FaultPostgres, startFaultPostgres } from './support/fault-services';
import { call, expectProblem } from './support/http';
import { TenantWriter } from './support/move-load';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor, uniqueSlug } from './support/test-app';
import { eventually, startTestWorker } from './support/test-worker';
import { INestApplicationContext } from '@nestjs/common';
import { LifecycleView } from '@bulkhead/lifecycle';

interface Storage {
  poolRows: number;
  schemas: number;
  databases: number;
}

/** What of a tenant one cluster holds, as its superuser sees it (RLS hides nothing from it). */
async function storageOn(adminUrl: string, tenantId: string): Promise<Storage> {
  return withPg(adminUrl, 'cross-cluster-test', async (client) => {
    const hex = tenantId.replace(/-/g, '');
    const pool = await client.query('SELECT count(*)::int AS n FROM public.customers WHERE tenant_id = $1', [tenantId]);
    const schemas = await client.query('SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1', [`t_${hex}`]);
    const databases = await client.query('SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [`${parsePgUrl(adminUrl).database}_t_${hex}`]);
    return { poolRows: pool.rows[0].n, schemas: schemas.rows[0].n, databases: databases.rows[0].n };
  });
}

const NOTHING: Storage = { poolRows: 0, schemas: 0, databases: 0 };

describe('clusters of two PostgreSQL servers in two regions: every model on each, new tenants on the emptier of their region, live moves between them', () => {
  // Two clusters of this suite's own: main (with its control plane) and a second one. Tenants on a
  // cluster only this suite knows must not reach the shared test registry, whose fleet-wide jobs
  // in other suites would meet a cluster they are not configured for.
  let main: FaultPostgres;
  let second: FaultPostgres;
  let api: TestApi;
  let mover: TenantMover;
  let worker: INestApplicationContext;
  /** The admin URL of each cluster's shared database, by cluster key. */
  const adminUrls: Record<string, string> = {};

  beforeAll(async () => {
    main = await startFaultPostgres();
    second = await startFaultPostgres({ controlPlane: false });
    // A third cluster, in another region, as a second database of the second server, set up as `setup` sets one up.
    const eu = {
      region: 'eu',
      url: second.env.DATABASE_URL.replace(/bulkhead_fault$/, 'bulkhead_eu'),
      ownerUrl: second.env.DATABASE_OWNER_URL.replace(/bulkhead_fault$/, 'bulkhead_eu'),
      adminUrl: second.env.DATABASE_ADMIN_URL,
    };
    await bootstrapDatabase({ adminUrl: eu.adminUrl, ownerUrl: eu.ownerUrl, runtimeUrl: eu.url });
    await migrateDatabase({ ownerUrl: eu.ownerUrl, runtimeUrl: eu.url, sources: migrationSourcesFor(DOMAINS), controlPlane: false });
    const clusters = {
      second: { region: 'local', url: second.env.DATABASE_URL, ownerUrl: second.env.DATABASE_OWNER_URL, adminUrl: second.env.DATABASE_ADMIN_URL },
      eu,
    };
    await clearPrivateJobQueue();
    const env = { ...main.env, DATABASE_CLUSTERS: JSON.stringify(clusters), MOVES_GRACE_MS: '300', MOVES_BATCH_ROWS: '40', LIFECYCLE_SWEEP_MS: '200', LIFECYCLE_LEASE_MS: '2000' };
    api = await startTestApi(env);
    worker = await startTestWorker(env);
    mover = api.app.get(TenantMover);
    adminUrls.main = main.adminUrl('bulkhead_fault');
    adminUrls.second = second.adminUrl('bulkhead_fault');
    adminUrls.eu = second.adminUrl('bulkhead_eu');
  }, 120_000);
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await second?.destroy();
    await main?.destroy();
    await clearPrivateJobQueue();
  });

  /** The cluster with fewer live tenants (main on a tie), as the registry counts them. */
  async function emptierCluster(): Promise<string> {
    const counts = await withPg(adminUrls.main, 'cross-cluster-test', (client) =>
      client.query<{ cluster: string; n: number }>("SELECT cluster, count(*)::int AS n FROM tenants WHERE status <> 'deleted' GROUP BY cluster"),
    );
    const live = Object.fromEntries(counts.rows.map((row) => [row.cluster, row.n]));
    return (live.second ?? 0) < (live.main ?? 0) ? 'second' : 'main';
  }

  /**
   * Runs a move, failing with what both servers were doing if it takes far longer than usual
   * (a leg takes seconds): a stuck leg once timed the whole test out with nothing to go on.
   */
  async function runMove(tenantId: string, moveId: string, budgetMs = 90_000): Promise<MoveRecord> {
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void (async () => {
          const move = await mover.current(tenantId).then(
            (record) => ({ ...record, progress: { ...record.progress, parity: undefined } }),
            (error: Error) => error.message,
          );
          const activity: Record<string, unknown[]> = {};
          for (const cluster of ['main', 'second']) {
            activity[cluster] = await withPg(adminUrls[cluster], 'cross-cluster-test', async (client) =>
              (await client.query(
                `SELECT datname, application_name, state, wait_event_type, wait_event, now() - xact_start AS xact_age, left(query, 160) AS query
                   FROM pg_stat_activity WHERE datname IS NOT NULL AND pid <> pg_backend_pid() AND state <> 'idle'`,
              )).rows,
            ).catch((error: Error) => [error.message]);
          }
          reject(new Error(`move still running after ${budgetMs} ms: ${JSON.stringify({ move, activity }, null, 1)}`));
        })();
      }, budgetMs);
    });
    try {
      return await Promise.race([mover.run(moveId), stuck]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function storageOf(tenantId: string): Promise<Record<string, Storage>> {
    return { main: await storageOn(adminUrls.main, tenantId), second: await storageOn(adminUrls.second, tenantId), eu: await storageOn(adminUrls.eu, tenantId) };
  }

  it.each<IsolationModel>(['pool', 'schema', 'silo'])('places a %s tenant on the cluster of its region holding fewer tenants, and serves it from there', async (model) => {
    const emptier = await emptierCluster();
    const tenant = await createTenant(api, { isolation: model, tier: 'pro' });
    expect(tenant.cluster).toBe(emptier);
    const writer = new TenantWriter(api.server, tokenFor(api, tenant), tenant.slug);
    await writer.seed(6);
    expect(writer.failures).toEqual([]);
    expect(await writer.read()).toEqual(writer.model);

    const storage = await storageOf(tenant.id);
    for (const other of Object.keys(storage).filter((key) => key !== emptier)) expect(storage[other]).toEqual(NOTHING);
    expect(storage[emptier]).toEqual({ poolRows: model === 'pool' ? 6 : 0, schemas: model === 'schema' ? 1 : 0, databases: model === 'silo' ? 1 : 0 });

    // Another tenant (placed on the other cluster now) cannot tell this one's customer from a missing one.
    const neighbour = await createTenant(api, { isolation: model, tier: 'pro' });
    const someone = [...writer.model.keys()][0];
    const probe = await call(api.server, 'get', `/v1/customers/${someone}`, tokenFor(api, neighbour));
    expect(probe.status).toBe(404);
  });

  it('moves one live tenant from cluster to cluster through every model under writes: nothing lost, each source dropped', async () => {
    const tenant = await createTenant(api, { isolation: 'pool', tier: 'pro' });
    const token = tokenFor(api, tenant);
    const home = tenant.cluster;
    const away = home === 'main' ? 'second' : 'main';
    const legs: Array<[IsolationModel, string]> = [
      ['pool', away],
      ['silo', home],
      ['silo', away],
      ['schema', home],
      ['schema', away],
      ['pool', home],
    ];
    const writer = new TenantWriter(api.server, token, tenant.slug);
    await writer.seed(60);
    let version = tenant.placementVersion;
    for (const [model, cluster] of legs) {
      // Paced: each leg copies every row the writer added in the legs before it, at the mover's
      // duty cycle, so a writer going back to back grew the tenant by a factor each leg (1.5 to 2
      // on an idle machine, more on a slow one) and six legs took anywhere from 50 s to past 300 s.
      // A write still starts every ~15 ms, so writes keep meeting the fence (30-200 ms here).
      writer.start(10);
      const requested = await mover.request(tenant.id, model, cluster);
      const done = await runMove(tenant.id, requested.id);
      await writer.stop();
      expect(done).toMatchObject({ phase: 'done', error: null });
      expect(writer.failures).toEqual([]);
      expect(await writer.read()).toEqual(writer.model);
      version += 1;
      expect(await api.admin.get(tenant.id)).toMatchObject({ isolation: model, cluster, placementVersion: version });

      const storage = await storageOf(tenant.id);
      for (const other of Object.keys(storage).filter((key) => key !== cluster)) expect(storage[other]).toEqual(NOTHING);
      expect(storage[cluster]).toEqual({
        poolRows: model === 'pool' ? writer.model.size : 0,
        schemas: model === 'schema' ? 1 : 0,
        databases: model === 'silo' ? 1 : 0,
      });
    }
  }, 300_000);

  it('keeps a tenant of another region on that region\'s cluster, and moves one there for residency', async () => {
    const european = await createTenant(api, { isolation: 'pool', region: 'eu' });
    expect(european).toMatchObject({ region: 'eu', cluster: 'eu' });
    const writer = new TenantWriter(api.server, tokenFor(api, european), european.slug);
    await writer.seed(4);
    expect(writer.failures).toEqual([]);
    expect((await storageOf(european.id)).eu.poolRows).toBe(4);

    const local = await createTenant(api, { isolation: 'schema' });
    expect(local.region).toBe('local');
    const moving = new TenantWriter(api.server, tokenFor(api, local), local.slug);
    await moving.seed(20);
    moving.start();
    const done = await mover.run((await mover.request(local.id, 'pool', 'eu')).id);
    await moving.stop();
    expect(done).toMatchObject({ phase: 'done', error: null });
    expect(await api.admin.get(local.id)).toMatchObject({ region: 'eu', cluster: 'eu', isolation: 'pool' });
    expect(moving.failures).toEqual([]);
    expect(await moving.read()).toEqual(moving.model);
    const storage = await storageOf(local.id);
    expect(storage).toEqual({ main: NOTHING, second: NOTHING, eu: { poolRows: moving.model.size, schemas: 0, databases: 0 } });
  });

  it('refuses a region without a cluster, at creation and to a tenant left in one', async () => {
    await expect(createTenant(api, { region: 'mars-1' })).rejects.toMatchObject({ status: 422, code: 'region_not_served' });
    // A registry row of a region no cluster here serves (a registry shared with another deployment).
    const stranger = randomUUID();
    await withPg(adminUrls.main, 'cross-cluster-test', (client) =>
      client.query(
        `INSERT INTO tenants (id, slug, name, tier, isolation, status, region, cluster, schema_name, database_name, data_version)
         VALUES ($1, $2, 'Stranger', 'free', 'pool', 'active', 'mars-1', 'main', NULL, NULL, 0)`,
        [stranger, uniqueSlug('mars')],
      ),
    );
    expectProblem(await call(api.server, 'get', '/v1/customers', tokenFor(api, { id: stranger })), 403, 'tenant_unavailable');
  });

  it('offboards a tenant of another cluster: erased there and verified through that cluster\'s admin URL', async () => {
    const tenant = await createTenant(api, { isolation: 'schema', region: 'eu' });
    const writer = new TenantWriter(api.server, tokenFor(api, tenant), tenant.slug);
    await writer.seed(3);
    expect((await storageOf(tenant.id)).eu).toEqual({ poolRows: 0, schemas: 1, databases: 0 });
    const operator = operatorToken(api);
    expect((await call(api.server, 'post', `/v1/admin/tenants/${tenant.id}/offboard`, operator, { graceDays: 0 })).status).toBe(202);
    const saga = await eventually(async () => {
      const view = (await call(api.server, 'get', `/v1/admin/tenants/${tenant.id}/lifecycle`, operator)).body as LifecycleView;
      const last = view.sagas[view.sagas.length - 1];
      return last && last.status !== 'running' && last.status !== 'compensating' ? last : undefined;
    }, 'the erasure', 900);
    expect({ status: saga.status, errors: saga.steps.map((step) => step.lastError).filter(Boolean) }).toEqual({ status: 'succeeded', errors: [] });
    expect(await storageOf(tenant.id)).toEqual({ main: NOTHING, second: NOTHING, eu: NOTHING });
    const certificate = (await call(api.server, 'get', `/v1/admin/tenants/${tenant.id}/erasure-certificate`, operator)).body as { stores: Array<{ tenantAfter: number }> };
    expect(certificate.stores.length).toBeGreaterThan(5);
    expect(certificate.stores.every((store) => store.tenantAfter === 0)).toBe(true);
  }, 120_000);

  it('refuses a unit of work that outlived a move\'s grace period on the pool it left, on either cluster, and runs it where the tenant lives now', async () => {
    const tenant = await createTenant(api, { isolation: 'pool' });
    const first = tenant.cluster;
    const other = first === 'main' ? 'second' : 'main';
    // Main's pool asks its registry; the other cluster's pool its record of departed tenants.
    for (const to of [other, first]) {
      const stale = await api.admin.get(tenant.id);
      // Its entries linked first: a move of a tenant created a moment ago, overlapping the first
      // chaining round of its trail, once failed its parity check on the audit tables (safely:
      // nothing switched; cause not found yet). This test is about late writes, not that.
      await api.app.get(AuditChainer).chainNow(tenantContextOf(stale, 'cross-cluster-test'));
      const done = await mover.run((await mover.request(tenant.id, 'pool', to)).id);
      expect({ to, phase: done.phase, error: done.error, parity: done.error ? done.progress : null }).toEqual({ to, phase: 'done', error: null, parity: null });
      const email = `late-${to}@x.test`;
      // A unit of work that began on the placement the tenant has now left, and writes after the drop.
      const written = await runWithTenant(tenantContextOf(stale, 'late-writer'), () =>
        api.app.get(TenantData).transaction((tx) =>
          tx.statement<{ id: string }>("INSERT INTO customers (tenant_id, id, email, name) VALUES ($1, gen_random_uuid(), $2, 'Late') RETURNING id", [email]),
        ),
      );
      expect(written).toHaveLength(1);
      const rows = async (cluster: string) =>
        withPg(adminUrls[cluster], 'cross-cluster-test', async (client) => (await client.query('SELECT count(*)::int AS n FROM customers WHERE tenant_id = $1 AND email = $2', [tenant.id, email])).rows[0].n);
      expect({ left: await rows(stale.cluster), now: await rows(to) }).toEqual({ left: 0, now: 1 });
    }
  });

  it('runs the doctor over every cluster\'s shared database and every silo on its own cluster', async () => {
    const silo = await createTenant(api, { isolation: 'silo', region: 'eu' });
    const report = await api.app.get(FleetDoctor).run();
    expect(report.violations).toEqual([]);
    const tables = report.tables.map((table) => table.table);
    for (const where of ['public', 'second:bulkhead_fault.public', 'eu:bulkhead_eu.public', `${silo.databaseName}.public`]) expect(tables).toContain(`${where}.customers`);
  });

  it('passes over a silo that leaves the fleet while it runs, and names one still listed that it cannot reach', async () => {
    const registry = api.app.get(TenantRepository);
    const ghost = { slug: 'gone-silo', cluster: 'main', databaseName: `bulkhead_gone_${randomUUID().replace(/-/g, '')}` };
    // The registry as the doctor reads it: the ghost listed when it lists the silos, and (moved
    // out or erased, its database dropped) gone by the time its database is reached; or still there.
    const listing = (stillListed: boolean) => {
      let calls = 0;
      return {
        listLiveSilos: async () => [...(await registry.listLiveSilos()), ...(calls++ === 0 || stillListed ? [ghost] : [])],
      } as unknown as TenantRepository;
    };
    const left = await new FleetDoctor(api.app.get(ClusterRegistry), listing(false)).run();
    expect(left.violations).toEqual([]);
    const stuck = await new FleetDoctor(api.app.get(ClusterRegistry), listing(true)).run();
    expect(stuck.violations).toEqual([expect.stringMatching(new RegExp(`^gone-silo \\(${ghost.databaseName}\\): cannot be checked: .*does not exist`))]);
  });

  it('passes over a silo that moved to another cluster under the same database name while it ran', async () => {
    const registry = api.app.get(TenantRepository);
    // Clusters whose databases share a name give a tenant's silo the same name on each.
    const name = `bulkhead_moved_${randomUUID().replace(/-/g, '')}`;
    let calls = 0;
    const listing = {
      listLiveSilos: async () => [...(await registry.listLiveSilos()), { slug: 'moved-silo', cluster: calls++ === 0 ? 'main' : 'second', databaseName: name }],
    } as unknown as TenantRepository;
    const report = await new FleetDoctor(api.app.get(ClusterRegistry), listing).run();
    expect(report.violations).toEqual([]);
  });
});

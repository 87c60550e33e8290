import { IsolationModel } from '@bulkhead/config';
import { parsePgUrl, withDatabase, withPg } from '@bulkhead/database';
import { runWithTenant, TenantData, tenantContextOf } from '@bulkhead/tenancy';
import { Customer } from '@bulkhead/sales';
import { TenantMover } from '@bulkhead/tenant-moves';
import { call } from './support/http';
import { TenantWriter } from './support/move-load';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';

/** Where a tenant's customers live, counted as the admin role sees them (RLS does not hide rows from it). */
async function storageOf(api: TestApi, tenantId: string): Promise<{ poolRows: number; schemas: number; databases: number }> {
  const mainDb = parsePgUrl(api.config.DATABASE_URL).database;
  return withPg(withDatabase(api.config.DATABASE_ADMIN_URL, mainDb), 'moves-test', async (client) => {
    const hex = tenantId.replace(/-/g, '');
    const pool = await client.query('SELECT count(*)::int AS n FROM public.customers WHERE tenant_id = $1', [tenantId]);
    const schemas = await client.query('SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1', [`t_${hex}`]);
    const databases = await client.query('SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [`${mainDb}_t_${hex}`]);
    return { poolRows: pool.rows[0].n, schemas: schemas.rows[0].n, databases: databases.rows[0].n };
  });
}

describe('tenant moves: a live tenant between pool, schema and silo, nothing lost', () => {
  let api: TestApi;
  let mover: TenantMover;

  beforeAll(async () => {
    api = await startTestApi({ MOVES_GRACE_MS: '300', MOVES_BATCH_ROWS: '40' });
    mover = api.app.get(TenantMover);
  });
  afterAll(() => api.close());

  const pairs: Array<[IsolationModel, IsolationModel]> = [
    ['pool', 'schema'],
    ['schema', 'silo'],
    ['silo', 'pool'],
    ['pool', 'silo'],
    ['silo', 'schema'],
    ['schema', 'pool'],
  ];

  it.each(pairs)('%s -> %s under writes: every acknowledged write there, none failed, the source dropped', async (from, to) => {
    const tenant = await createTenant(api, { isolation: from, tier: 'pro' });
    const writer = new TenantWriter(api.server, tokenFor(api, tenant), tenant.slug);
    await writer.seed(120);
    writer.start();
    const requested = await mover.request(tenant.id, to);
    const done = await mover.run(requested.id);
    await writer.stop();

    expect(done).toMatchObject({ phase: 'done', error: null });
    expect(done.progress.fenceMs).toBeGreaterThanOrEqual(0);
    expect(writer.failures).toEqual([]);
    expect(await writer.read()).toEqual(writer.model);
    const moved = await api.admin.get(tenant.id);
    expect(moved).toMatchObject({ isolation: to, cluster: 'main', placementVersion: tenant.placementVersion + 1 });

    // The source is gone; only the target holds the tenant.
    const storage = await storageOf(api, tenant.id);
    expect(storage).toEqual({
      poolRows: to === 'pool' ? writer.model.size : 0,
      schemas: to === 'schema' ? 1 : 0,
      databases: to === 'silo' ? 1 : 0,
    });

    // Still writable and readable where it now lives.
    await writer.create();
    expect(writer.failures).toEqual([]);
    expect(await writer.read()).toEqual(writer.model);
  });

  it('undoes itself when the tenant is suspended meanwhile (offboarding fences it first): no copy left, no switch', async () => {
    const tenant = await createTenant(api, { isolation: 'pool', tier: 'pro' });
    const writer = new TenantWriter(api.server, tokenFor(api, tenant), tenant.slug);
    await writer.seed(30);
    const requested = await mover.request(tenant.id, 'schema');
    await api.admin.suspend(tenant.id);
    const ended = await mover.run(requested.id);
    // The record says why, so an operator who never asked for the abort can tell.
    expect(ended).toMatchObject({ phase: 'aborted', progress: { abortReason: 'the tenant became suspended during the move: undone, the source untouched' } });
    expect(await api.admin.get(tenant.id)).toMatchObject({ isolation: 'pool', status: 'suspended', placementVersion: tenant.placementVersion });
    expect(await storageOf(api, tenant.id)).toEqual({ poolRows: writer.model.size, schemas: 0, databases: 0 });
    // A suspended tenant cannot be sent anywhere either.
    await expect(mover.request(tenant.id, 'silo')).rejects.toMatchObject({ status: 422 });
    await api.admin.reactivate(tenant.id);
  });

  it('answers POST /move with 202 and the progress on GET, refuses a second target while one is unfinished', async () => {
    const tenant = await createTenant(api, { isolation: 'pool' });
    const writer = new TenantWriter(api.server, tokenFor(api, tenant), tenant.slug);
    await writer.seed(10);
    const operator = operatorToken(api);
    const started = await call(api.server, 'post', `/v1/admin/tenants/${tenant.id}/move`, operator, { to: 'schema' });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ tenantId: tenant.id, source: { isolation: 'pool' }, target: { isolation: 'schema' } });
    const other = await call(api.server, 'post', `/v1/admin/tenants/${tenant.id}/move`, operator, { to: 'silo' });
    if (other.status !== 422) expect(other.status).toBe(409);
    let progress;
    for (let i = 0; i < 200; i++) {
      progress = await call(api.server, 'get', `/v1/admin/tenants/${tenant.id}/move`, operator);
      if (progress.body.phase === 'done') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(progress!.body).toMatchObject({ phase: 'done', progress: { copiedRows: expect.any(Number) } });
    expect(await writer.read()).toEqual(writer.model);
    const bad = await call(api.server, 'post', `/v1/admin/tenants/${tenant.id}/move`, operator, { to: 'schema' });
    expect(bad.status).toBe(422);
  });

  it('aborts before the switch: the target is dropped, the source untouched and still live', async () => {
    const tenant = await createTenant(api, { isolation: 'schema' });
    const writer = new TenantWriter(api.server, tokenFor(api, tenant), tenant.slug);
    await writer.seed(20);
    const requested = await mover.request(tenant.id, 'silo');
    const aborted = await mover.abort(tenant.id);
    expect(aborted.phase).toBe('aborted');
    expect(await api.admin.get(tenant.id)).toMatchObject({ isolation: 'schema', placementVersion: tenant.placementVersion });
    expect(await storageOf(api, tenant.id)).toEqual({ poolRows: 0, schemas: 1, databases: 0 });
    await writer.create();
    expect(writer.failures).toEqual([]);
    expect(await writer.read()).toEqual(writer.model);
    expect(requested.id).toBe(aborted.id);
  });

  it('keeps a pool\'s record of a tenant that left it through a move back that aborts, and forgets it once a move back switches', async () => {
    const tenant = await createTenant(api, { isolation: 'pool', tier: 'pro' });
    const writer = new TenantWriter(api.server, tokenFor(api, tenant), tenant.slug);
    await writer.seed(10);
    const departures = () =>
      withPg(api.config.DATABASE_OWNER_URL, 'moves-test', async (client) => (await client.query('SELECT placement_version FROM public.bulkhead_departures WHERE tenant = $1', [tenant.id])).rows);
    expect(await mover.run((await mover.request(tenant.id, 'schema')).id)).toMatchObject({ phase: 'done' });
    expect(await departures()).toEqual([{ placement_version: tenant.placementVersion + 1 }]);

    // A move back, copied and catching up, then aborted: the tenant never came back.
    const back = await mover.request(tenant.id, 'pool');
    expect(await mover.run(back.id, undefined, (move) => move.phase === 'catching_up')).toMatchObject({ phase: 'catching_up' });
    expect((await mover.abort(tenant.id)).phase).toBe('aborted');
    expect(await departures()).toEqual([{ placement_version: tenant.placementVersion + 1 }]);

    expect(await mover.run((await mover.request(tenant.id, 'pool')).id)).toMatchObject({ phase: 'done' });
    expect(await departures()).toEqual([]);
    await writer.create();
    expect(writer.failures).toEqual([]);
    expect(await writer.read()).toEqual(writer.model);
  });

  it.each([['schema'], ['silo']] as Array<[IsolationModel]>)(
    'runs a unit of work that outlived the grace period of a dropped %s (its writes and its reads) where the tenant lives now',
    async (from) => {
      const tenant = await createTenant(api, { isolation: from, tier: 'pro' });
      const stale = await api.admin.get(tenant.id);
      // Something of the tenant's read first, so the old placement's connections exist when it is dropped.
      await new TenantWriter(api.server, tokenFor(api, tenant), tenant.slug).seed(3);
      const done = await mover.run((await mover.request(tenant.id, 'pool')).id);
      expect({ phase: done.phase, error: done.error }).toEqual({ phase: 'done', error: null });
      expect(await storageOf(api, tenant.id)).toEqual({ poolRows: 3, schemas: 0, databases: 0 });

      const email = `late-${from}@x.test`;
      // Began on the placement the tenant has left, and writes after that placement was dropped.
      const written = await runWithTenant(tenantContextOf(stale, 'late-writer'), () =>
        api.app.get(TenantData).transaction((tx) =>
          tx.statement<{ id: string }>("INSERT INTO customers (tenant_id, id, email, name) VALUES ($1, gen_random_uuid(), $2, 'Late') RETURNING id", [email]),
        ),
      );
      expect(written).toHaveLength(1);
      expect(await storageOf(api, tenant.id)).toEqual({ poolRows: 4, schemas: 0, databases: 0 });
      // A read of such a unit of work, likewise.
      const read = await runWithTenant(tenantContextOf(stale, 'late-reader'), () => api.app.get(TenantData).read(Customer).findPage({ limit: 10 }));
      expect(read.map((customer) => customer.email)).toContain(email);
    },
  );
});

import { loadConfig } from '@bulkhead/config';
import { ClusterRegistry, TenantRepository } from '@bulkhead/control-plane';
import { withPg } from '@bulkhead/database';
import { LifecycleView, WarmPool } from '@bulkhead/lifecycle';
import { INestApplicationContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { operatorToken, startTestApi, TestApi, tokenFor, uniqueSlug } from './support/test-app';
import { eventually, startTestWorker } from './support/test-worker';

const ENV = {
  LIFECYCLE_SWEEP_MS: '200',
  LIFECYCLE_LEASE_MS: '2000',
  LIFECYCLE_WARM_SCHEMAS: '2',
  LIFECYCLE_WARM_SILOS: '1',
  SIGNUP_RATE_LIMIT_PER_MINUTE: '1000',
};

describe('onboarding saga', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let operator: string;
  const config = loadConfig();

  beforeAll(async () => {
    api = await startTestApi(ENV);
    worker = await startTestWorker(ENV);
    operator = operatorToken(api);
  }, 120_000);

  afterAll(async () => {
    await worker?.close();
    await api?.close();
  });

  const lifecycle = async (tenantId: string): Promise<LifecycleView> => {
    const response = await request(api.server).get(`/v1/admin/tenants/${tenantId}/lifecycle`).set('authorization', `Bearer ${operator}`);
    expect(response.status).toBe(200);
    return response.body as LifecycleView;
  };

  const settled = (tenantId: string) =>
    eventually(async () => {
      const view = await lifecycle(tenantId);
      const last = view.sagas[view.sagas.length - 1];
      return last && last.status !== 'running' && last.status !== 'compensating' ? view : undefined;
    }, `the saga of ${tenantId} to settle`, 600);

  it('signs up once per Idempotency-Key and serves the new tenant', async () => {
    const slug = uniqueSlug('signup');
    const missing = await request(api.server).post('/v1/signup').send({ slug, name: 'Signup Co' });
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe('idempotency_key_required');
    // An anonymous caller may not bind an identity provider's organisation id to a tenant.
    const claimed = await request(api.server).post('/v1/signup').set('idempotency-key', `"${randomUUID()}"`).send({ slug, name: 'Signup Co', externalRef: 'org_someone_else' });
    expect({ status: claimed.status, code: claimed.body.code }).toEqual({ status: 400, code: 'validation_failed' });

    const key = `"${randomUUID()}"`;
    const first = await request(api.server).post('/v1/signup').set('idempotency-key', key).send({ slug, name: 'Signup Co' });
    expect(first.status).toBe(202);
    const again = await request(api.server).post('/v1/signup').set('idempotency-key', key).send({ slug, name: 'Signup Co' });
    expect(again.status).toBe(202);
    expect(again.body.tenantId).toBe(first.body.tenantId);
    expect(again.body.sagaId).toBe(first.body.sagaId);
    const reused = await request(api.server).post('/v1/signup').set('idempotency-key', key).send({ slug, name: 'Other Co' });
    expect(reused.status).toBe(422);

    const view = await settled(first.body.tenantId);
    expect(view.sagas).toHaveLength(1);
    expect(view.sagas[0].status).toBe('succeeded');
    expect(view.sagas[0].steps.map((s) => s.status)).toEqual(Array(9).fill('succeeded'));
    const status = await request(api.server).get(first.body.statusUrl);
    expect(status.status).toBe(200);
    expect(status.body.status).toBe('succeeded');

    const tenants = await api.app.get(TenantRepository).findBySlug(slug);
    expect(tenants?.status).toBe('active');
    expect(tenants?.isolation).toBe('pool');
    const read = await request(api.server).get('/v1/projects').set('authorization', `Bearer ${tokenFor(api, { id: first.body.tenantId })}`);
    expect(read.status).toBe(200);

    const hosts = await withPg(config.DATABASE_OWNER_URL, 'test', (c) => c.query('SELECT host FROM lifecycle_hosts WHERE tenant = $1', [first.body.tenantId]));
    expect(hosts.rows.map((r) => r.host)).toEqual([`${slug}.bulkhead.test`]);
    await eventually(async () => {
      const events = await withPg(config.DATABASE_OWNER_URL, 'test', (c) =>
        c.query("SELECT delivered_at FROM lifecycle_outbox WHERE tenant = $1 AND type = 'tenant.activated'", [first.body.tenantId]),
      );
      return events.rows.length === 1 && events.rows[0].delivered_at ? true : undefined;
    }, 'tenant.activated delivered');
  });

  it('refuses a taken slug at once with 409', async () => {
    const slug = uniqueSlug('taken');
    const first = await request(api.server).post('/v1/admin/onboardings').set('authorization', `Bearer ${operator}`).send({ slug, name: 'A', tier: 'free' });
    expect(first.status).toBe(202);
    const second = await request(api.server).post('/v1/admin/onboardings').set('authorization', `Bearer ${operator}`).send({ slug, name: 'B', tier: 'free' });
    expect(second.status).toBe(409);
    expect(second.body.code).toBe('tenant_slug_taken');
    await settled(first.body.tenantId);
  });

  it('names the external reference, not the slug, when that is what is taken (409)', async () => {
    const externalRef = `crm-${uniqueSlug('ref')}`;
    const slug = uniqueSlug('refa');
    const first = await request(api.server).post('/v1/admin/onboardings').set('authorization', `Bearer ${operator}`).send({ slug, name: 'A', tier: 'free', externalRef });
    expect(first.status).toBe(202);
    const second = await request(api.server).post('/v1/admin/onboardings').set('authorization', `Bearer ${operator}`).send({ slug: uniqueSlug('refb'), name: 'B', tier: 'free', externalRef });
    expect({ status: second.status, code: second.body.code }).toEqual({ status: 409, code: 'tenant_external_ref_taken' });
    // Both taken: the slug is named.
    const both = await request(api.server).post('/v1/admin/onboardings').set('authorization', `Bearer ${operator}`).send({ slug, name: 'C', tier: 'free', externalRef });
    expect(both.body.code).toBe('tenant_slug_taken');
    await settled(first.body.tenantId);
  });

  it.each(['schema', 'silo'] as const)('onboards a %s tenant from the warm pool (a rename, not CREATE plus migrations)', async (isolation) => {
    const pool = worker.get(WarmPool);
    await eventually(async () => ((await pool.counts()).some((c) => c.model === isolation && c.status === 'ready') ? true : undefined), `a warm ${isolation}`, 600);
    const started = await request(api.server)
      .post('/v1/admin/onboardings')
      .set('authorization', `Bearer ${operator}`)
      .send({ slug: uniqueSlug(isolation), name: 'Warm', tier: 'pro', isolation });
    expect(started.status).toBe(202);
    expect(started.body.statusUrl).toBe(`/v1/admin/tenants/${started.body.tenantId}/lifecycle`);
    const view = await settled(started.body.tenantId);
    expect(view.sagas[0].status).toBe('succeeded');
    const storage = view.sagas[0].steps.find((s) => s.step === 'storage');
    expect(storage?.details.source).toBe('warm');

    const tenant = (await api.app.get(TenantRepository).findById(started.body.tenantId))!;
    expect(tenant.status).toBe('active');
    expect(tenant.dataVersion).toBeGreaterThan(0);
    const token = tokenFor(api, tenant);
    const created = await request(api.server).post('/v1/projects').set('authorization', `Bearer ${token}`).send({ name: 'first' });
    expect(created.status).toBe(201);
    const read = await request(api.server).get('/v1/projects').set('authorization', `Bearer ${token}`);
    expect(read.body.items).toHaveLength(1);

    // The warm entry is gone from the pool: its storage now carries the tenant's name.
    const ledger = await withPg(config.DATABASE_OWNER_URL, 'test', (c) => c.query('SELECT count(*)::int AS n FROM lifecycle_warm_storage WHERE id = $1', [storage?.details.warmId]));
    expect(ledger.rows[0].n).toBe(0);
    if (isolation === 'schema') {
      const migrations = await withPg(config.DATABASE_OWNER_URL, 'test', (c) =>
        c.query('SELECT count(*)::int AS n FROM schema_migrations WHERE target = $1', [`schema:${tenant.id}`]),
      );
      expect(migrations.rows[0].n).toBe(tenant.dataVersion);
    }
  });

  it('runs compensations when a step fails for good, and a retry after the cause is gone succeeds', async () => {
    const slug = uniqueSlug('fails');
    // Another tenant already holds the host name this tenant would get.
    await withPg(config.DATABASE_OWNER_URL, 'test', (c) => c.query('INSERT INTO lifecycle_hosts (host, tenant) VALUES ($1, $2)', [`${slug}.bulkhead.test`, randomUUID()]));
    const started = await request(api.server)
      .post('/v1/admin/onboardings')
      .set('authorization', `Bearer ${operator}`)
      .send({ slug, name: 'Fails', tier: 'pro', isolation: 'schema' });
    expect(started.status).toBe(202);
    const failed = await settled(started.body.tenantId);
    expect(failed.sagas[0].status).toBe('failed');
    expect(failed.sagas[0].reason).toMatch(/^dns: host_taken/);
    const steps = Object.fromEntries(failed.sagas[0].steps.map((s) => [s.step, s.status]));
    expect(steps).toMatchObject({ reserve: 'compensated', storage: 'compensated', seed: 'compensated', dns: 'compensated', activate: 'pending' });
    const tenant = (await api.app.get(TenantRepository).findById(started.body.tenantId))!;
    expect(tenant.status).toBe('deleted');
    const schema = await withPg(config.DATABASE_OWNER_URL, 'test', (c) => c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [tenant.schemaName]));
    expect(schema.rowCount).toBe(0);

    await withPg(config.DATABASE_OWNER_URL, 'test', (c) => c.query('DELETE FROM lifecycle_hosts WHERE host = $1', [`${slug}.bulkhead.test`]));
    const retried = await request(api.server).post(`/v1/admin/tenants/${tenant.id}/lifecycle/retry`).set('authorization', `Bearer ${operator}`);
    expect(retried.status).toBe(202);
    const done = await settled(tenant.id);
    expect(done.sagas[0].status).toBe('succeeded');
    expect((await api.app.get(TenantRepository).findById(tenant.id))?.status).toBe('active');
    const again = await request(api.server).post(`/v1/admin/tenants/${tenant.id}/lifecycle/retry`).set('authorization', `Bearer ${operator}`);
    expect(again.status).toBe(409);
  });

  it('keeps the lifecycle to operators', async () => {
    const slug = uniqueSlug('private');
    const started = await request(api.server).post('/v1/admin/onboardings').set('authorization', `Bearer ${operator}`).send({ slug, name: 'P', tier: 'free' });
    await settled(started.body.tenantId);
    const tenantToken = tokenFor(api, { id: started.body.tenantId });
    const asTenant = await request(api.server).get(`/v1/admin/tenants/${started.body.tenantId}/lifecycle`).set('authorization', `Bearer ${tenantToken}`);
    expect(asTenant.status).toBe(403);
    const anonymous = await request(api.server).get(`/v1/admin/tenants/${started.body.tenantId}/lifecycle`);
    expect(anonymous.status).toBe(401);
    expect(api.app.get(ClusterRegistry).all().length).toBeGreaterThan(0);
  });
});

import { clearPrivateJobQueue } from './support/private-job-queue';
import { randomUUID } from 'node:crypto';
import { AuditChainer, AuditVerifier } from '@bulkhead/audit';
import { IsolationModel } from '@bulkhead/config';
import { tenantContextOf } from '@bulkhead/tenancy';
import { TenantMover } from '@bulkhead/tenant-moves';
import { call } from './support/http';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';
import { eventually, startTestWorker } from './support/test-worker';
import { INestApplicationContext } from '@nestjs/common';

describe('tenant moves: what the tenant kept before a move still holds after it', () => {
  let api: TestApi;
  let mover: TenantMover;
  let worker: INestApplicationContext;

  beforeAll(async () => {
    await clearPrivateJobQueue();
    api = await startTestApi({ MOVES_GRACE_MS: '200', MOVES_BATCH_ROWS: '40' });
    worker = await startTestWorker({ MOVES_GRACE_MS: '200' });
    mover = api.app.get(TenantMover);
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await clearPrivateJobQueue();
  });

  it('runs a job enqueued before the switch after it, on the tenant\'s new placement, and serves fresh cached totals', async () => {
    const tenant = await createTenant(api, { isolation: 'pool', tier: 'pro' });
    const token = tokenFor(api, tenant);
    const operator = operatorToken(api);
    const customer = await call(api.server, 'post', '/v1/customers', token, { name: 'c', email: `c-${tenant.slug}@x.test` });
    for (let i = 0; i < 3; i++) expect((await call(api.server, 'post', '/v1/orders', token, { customerId: customer.body.id, totalCents: 100, currency: 'EUR' })).status).toBe(201);
    const totalsBefore = await call(api.server, 'get', '/v1/customer-totals', token);
    expect(totalsBefore.status).toBe(200);
    expect((await call(api.server, 'post', `/v1/admin/jobs/tenants/${tenant.id}/pause`, operator)).status).toBeLessThan(300);
    const requested = await call(api.server, 'post', '/v1/exports', token, {});
    expect(requested.status).toBe(202);
    const recalc = await call(api.server, 'post', '/v1/customer-totals/recalculate', token, {});
    expect(recalc.status).toBeLessThan(300);
    for (const to of ['silo', 'schema'] as IsolationModel[]) {
      const done = await mover.run((await mover.request(tenant.id, to)).id);
      expect({ phase: done.phase, error: done.error }).toEqual({ phase: 'done', error: null });
    }
    expect((await call(api.server, 'post', `/v1/admin/jobs/tenants/${tenant.id}/resume`, operator)).status).toBeLessThan(300);
    const exported = await eventually(async () => {
      const view = await call(api.server, 'get', `/v1/exports/${requested.body.id}`, token);
      return view.body.status === 'pending' ? undefined : view.body;
    }, 'the export');
    expect(exported).toMatchObject({ status: 'completed', rowCount: 3 });
    const content = await call(api.server, 'get', `/v1/exports/${requested.body.id}/content`, token);
    expect(content.text.trim().split('\n')).toHaveLength(4);
    const totals = await eventually(async () => {
      const page = await call(api.server, 'get', '/v1/customer-totals', token);
      return page.body.items?.length ? page.body : undefined;
    }, 'the totals');
    expect(totals.items[0]).toMatchObject({ orderCount: 3, totalCents: 300 });
  }, 60_000);

  it('keeps the audit chain verifiable, replays idempotency keys and counts usage from before, pool -> schema -> silo -> pool', async () => {
    const tenant = await createTenant(api, { isolation: 'pool', tier: 'free' });
    const token = tokenFor(api, tenant);
    const key = `"${randomUUID()}"`;
    const first = await call(api.server, 'post', '/v1/projects', token, { name: 'keyed' }, { 'Idempotency-Key': key });
    expect(first.status).toBe(201);
    const customer = await call(api.server, 'post', '/v1/customers', token, { name: 'c', email: `c-${tenant.slug}@x.test` });
    expect(customer.status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await call(api.server, 'post', '/v1/orders', token, { customerId: customer.body.id, totalCents: 100, currency: 'EUR' })).status).toBe(201);
    const month = new Date();
    const from = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth(), 1)).toISOString();
    const to = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1)).toISOString();
    const usage = async () => (await call(api.server, 'get', `/v1/usage?meter=orders.created&from=${from}&to=${to}&granularity=month`, token)).body;
    const quota = async () => (await call(api.server, 'get', `/v1/admin/usage/tenants/${tenant.id}`, operatorToken(api))).body.meters;
    const before = await usage();
    const quotaBefore = await quota();

    for (const to of ['schema', 'silo', 'pool'] as IsolationModel[]) {
      const done = await mover.run((await mover.request(tenant.id, to)).id);
      expect({ phase: done.phase, error: done.error }).toEqual({ phase: 'done', error: null });
      const moved = await api.admin.get(tenant.id);
      await api.app.get(AuditChainer).chainNow(tenantContextOf(moved, 'moves-state'));
      const [report] = await api.app.get(AuditVerifier).verify({ tenant: tenant.id });
      expect(report).toMatchObject({ ok: true });
      const replay = await call(api.server, 'post', '/v1/projects', token, { name: 'keyed' }, { 'Idempotency-Key': key });
      expect({ status: replay.status, body: replay.body }).toEqual({ status: 201, body: first.body });
      expect((await call(api.server, 'get', '/v1/projects?limit=100', token)).body.items).toHaveLength(1);
      expect(await usage()).toEqual(before);
      expect(await quota()).toEqual(quotaBefore);
    }
  });
});

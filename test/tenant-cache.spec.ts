import { TenantRecord } from '@bulkhead/control-plane';
import { runWithTenant, tenantContextOf } from '@bulkhead/tenancy';
import { TenantCache } from '@bulkhead/tenant-cache';
import { INestApplicationContext } from '@nestjs/common';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { call } from './support/http';
import { clearPrivateJobQueue } from './support/private-job-queue';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';
import { startTestWorker } from './support/test-worker';

const MODELS = ['pool', 'schema', 'silo'] as const;

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition never held');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('tenant cache', () => {
  // Long in-process TTL: only an invalidation message can explain a copy dropped on another instance.
  const env = { CACHE_LOCAL_TTL_MS: '60000' };
  let one: TestApi;
  let two: TestApi;
  const tenants: TenantRecord[] = [];

  beforeAll(async () => {
    one = await startTestApi(env);
    two = await startTestApi(env);
    for (const isolation of MODELS) for (let n = 0; n < 2; n++) tenants.push(await createTenant(one, { isolation }));
  });
  afterAll(async () => {
    await two?.close();
    await one?.close();
  });

  const as = <T>(api: TestApi, tenant: TenantRecord, work: (cache: TenantCache) => Promise<T>) =>
    runWithTenant(tenantContextOf(tenant, 'test'), () => work(api.app.get(TenantCache)));

  it('gives every tenant its own value under the same logical key, in every model and on every instance', async () => {
    const key = `same-${randomUUID()}`;
    for (const tenant of tenants) await as(one, tenant, (cache) => cache.set(key, { owner: tenant.id }, { ttlMs: 60_000, tags: ['t'] }));
    for (const api of [one, two]) {
      for (const tenant of tenants) expect(await as(api, tenant, (cache) => cache.get(key))).toEqual({ owner: tenant.id });
    }
  });

  it("invalidating one tenant's tag leaves another tenant's entries with the same tag and key alone", async () => {
    const key = `tagged-${randomUUID()}`;
    const [a, b] = [tenants[0], tenants[4]];
    for (const tenant of [a, b]) await as(one, tenant, (cache) => cache.set(key, tenant.id, { ttlMs: 60_000, tags: ['totals'] }));
    await as(two, a, (cache) => cache.invalidateTag('totals'));
    expect(await as(two, a, (cache) => cache.get(key))).toBeUndefined();
    expect(await as(two, b, (cache) => cache.get(key))).toBe(b.id);
    // Instance one held both in its in-process tier: the announcement drops only a's.
    await eventually(async () => (await as(one, a, (cache) => cache.get(key))) === undefined);
    expect(await as(one, b, (cache) => cache.get(key))).toBe(b.id);
  });

  it('drops the in-process copies of a deleted key on every instance at once', async () => {
    const key = `deleted-${randomUUID()}`;
    const tenant = tenants[2];
    await as(one, tenant, (cache) => cache.set(key, 1, { ttlMs: 60_000 }));
    expect(await as(one, tenant, (cache) => cache.get(key))).toBe(1);
    expect(await as(two, tenant, (cache) => cache.get(key))).toBe(1);
    await as(two, tenant, (cache) => cache.delete(key));
    await eventually(async () => (await as(one, tenant, (cache) => cache.get(key))) === undefined);
  });

  it('never serves a value loaded while its tag was being invalidated', async () => {
    const key = `racing-${randomUUID()}`;
    const tenant = tenants[1];
    const loaded = await as(one, tenant, (cache) =>
      cache.getOrLoad(
        key,
        async () => {
          // The source changes and its tag is invalidated while this load is in flight.
          await as(two, tenant, (other) => other.invalidateTag('source'));
          return 'old';
        },
        { ttlMs: 60_000, tags: ['source'] },
      ),
    );
    expect(loaded).toBe('old');
    expect(await as(two, tenant, (cache) => cache.get(key))).toBeUndefined();
    expect(await as(one, tenant, (cache) => cache.getOrLoad(key, async () => 'new', { ttlMs: 60_000, tags: ['source'] }))).toBe('new');
  });

  it('never keeps in process a value read just before its tag was invalidated', async () => {
    const key = `read-racing-${randomUUID()}`;
    const tenant = tenants[3];
    await as(one, tenant, (cache) => cache.set(key, 'old', { ttlMs: 60_000, tags: ['source'] }));
    // The invalidation lands between the read's fetch of the entry and its in-process fill.
    const pttl = Redis.prototype.pttl;
    let raced = false;
    const spy = jest.spyOn(Redis.prototype, 'pttl').mockImplementation(async function (this: Redis, ...args: unknown[]) {
      if (!raced) {
        raced = true;
        await as(two, tenant, (cache) => cache.invalidateTag('source'));
      }
      return (pttl as (...params: unknown[]) => Promise<number>).apply(this, args);
    } as never);
    try {
      expect(await as(two, tenant, (cache) => cache.get(key))).toBe('old');
    } finally {
      spy.mockRestore();
    }
    expect(raced).toBe(true);
    expect(await as(two, tenant, (cache) => cache.get(key))).toBeUndefined();
  });

  it('expires entries after their TTL', async () => {
    const key = `short-${randomUUID()}`;
    const tenant = tenants[3];
    await as(two, tenant, (cache) => cache.set(key, 'soon gone', { ttlMs: 150 }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await as(one, tenant, (cache) => cache.get(key))).toBeUndefined();
  });

  it('refuses to run without a tenant in the unit of work, and refuses keys that are not printable', async () => {
    const cache = one.app.get(TenantCache);
    await expect(cache.get('anything')).rejects.toThrow();
    await expect(cache.set('anything', 1, { ttlMs: 1000 })).rejects.toThrow();
    await expect(cache.invalidateTag('anything')).rejects.toThrow();
    await expect(as(one, tenants[0], (c) => c.get('with space'))).rejects.toThrow(/printable/);
  });
});

describe('customer totals through the tenant cache', () => {
  let api: TestApi;
  let worker: INestApplicationContext;

  beforeAll(async () => {
    await clearPrivateJobQueue();
    api = await startTestApi();
    worker = await startTestWorker();
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await clearPrivateJobQueue();
  });

  it.each(MODELS)('serves the cached first page until a recalculation commits, then the new totals (%s)', async (isolation) => {
    const tenant = await createTenant(api, { isolation });
    const token = tokenFor(api, tenant);
    const customer = await call(api.server, 'post', '/v1/customers', token, { name: 'C', email: `${randomUUID()}@example.com` });
    expect(customer.status).toBe(201);
    const empty = await call(api.server, 'get', '/v1/customer-totals', token);
    expect(empty.body.items).toEqual([]);
    expect((await call(api.server, 'post', '/v1/orders', token, { customerId: customer.body.id, totalCents: 1234, currency: 'EUR' })).status).toBe(201);
    // Still the cached page: nothing recalculated yet.
    expect((await call(api.server, 'get', '/v1/customer-totals', token)).body.items).toEqual([]);
    expect((await call(api.server, 'post', '/v1/customer-totals/recalculate', token)).status).toBe(202);
    await eventually(async () => (await call(api.server, 'get', '/v1/customer-totals', token)).body.items.length === 1, 20_000);
    expect((await call(api.server, 'get', '/v1/customer-totals', token)).body.items[0]).toMatchObject({ customerId: customer.body.id, orderCount: 1, totalCents: 1234 });
  });
});

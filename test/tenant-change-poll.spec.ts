import { TenantChangeFeed, TenantRegistry, TenantRepository } from '@bulkhead/control-plane';
import { withPg } from '@bulkhead/database';
import { call, expectProblem } from './support/http';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';
import { eventually } from './support/test-worker';

/**
 * The registry's cache against the change feed's poll: what an announcement missed (here, a change
 * made in SQL, announced to no one) reaches the instance within TENANT_CACHE_TTL_MS; a tenant that
 * did not change is not looked up again while the poll answers; when the poll fails, cached
 * tenants expire after the TTL as they always did.
 */
describe('tenant change poll', () => {
  // Long enough that a poll slowed by a busy machine still comes well within it (one every half).
  const TTL_MS = 1500;
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi({ TENANT_CACHE_TTL_MS: String(TTL_MS) });
  });
  afterAll(() => api.close());
  afterEach(() => jest.restoreAllMocks());

  /**
   * A new tenant: the poll finds its row new (created, then activated) and forgets it once; two
   * looks one after the other and it has been seen at its version, then one request caches it.
   */
  async function settledTenant(): Promise<{ id: string; token: string }> {
    const tenant = await createTenant(api);
    const feed = api.app.get(TenantChangeFeed);
    await feed.poll();
    await feed.poll();
    const token = tokenFor(api, tenant);
    expect((await call(api.server, 'get', '/v1/customers', token)).status).toBe(200);
    return { id: tenant.id, token };
  }

  it('an unannounced change (SQL that does not even set updated_at) is found by the poll and enforced within the TTL', async () => {
    const { id, token } = await settledTenant();
    const forgets = jest.spyOn(api.app.get(TenantRegistry), 'forget');
    await withPg(api.config.DATABASE_OWNER_URL, 'poll-test', (owner) => owner.query("UPDATE tenants SET status = 'suspended' WHERE id = $1", [id]));
    const started = Date.now();
    const denied = await eventually(async () => {
      const response = await call(api.server, 'get', '/v1/customers', token);
      return response.status === 403 ? response : undefined;
    }, 'the suspension made in SQL to be enforced');
    expectProblem(denied, 403, 'tenant_suspended');
    // Found by a look, not by the entry running out of time: it was forgotten.
    expect(forgets.mock.calls.some(([tenant]) => tenant.id === id)).toBe(true);
    expect(Date.now() - started).toBeLessThan(TTL_MS + 2_000);
  });

  it('does not look an unchanged tenant up again while the poll answers', async () => {
    const { id, token } = await settledTenant();
    const repository = api.app.get(TenantRepository);
    const lookups = jest.spyOn(repository, 'findById');
    const polls = jest.spyOn(repository, 'changedSince');
    const until = Date.now() + 4 * TTL_MS;
    while (Date.now() < until) {
      expect((await call(api.server, 'get', '/v1/customers', token)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(polls.mock.calls.length).toBeGreaterThanOrEqual(3);
    expect(lookups.mock.calls.filter(([tenantId]) => tenantId === id)).toHaveLength(0);
  });

  it('when the poll fails, a cached tenant is looked up again once TTL old, and a poll that answers again vouches once more', async () => {
    const { id, token } = await settledTenant();
    const repository = api.app.get(TenantRepository);
    const lookups = jest.spyOn(repository, 'findById');
    // The registry's database answering lookups but not the poll: the narrowest failure that
    // leaves the cache with nobody vouching for it.
    jest.spyOn(repository, 'changedSince').mockRejectedValue(new Error('poll refused (test)'));
    await new Promise((resolve) => setTimeout(resolve, 2 * TTL_MS));
    expect((await call(api.server, 'get', '/v1/customers', token)).status).toBe(200);
    expect(lookups.mock.calls.filter(([tenantId]) => tenantId === id).length).toBeGreaterThanOrEqual(1);

    jest.restoreAllMocks();
    const feed = api.app.get(TenantChangeFeed);
    await feed.poll();
    const again = jest.spyOn(repository, 'findById');
    // Older than a TTL since it was loaded: only the looks that answer again keep it.
    await new Promise((resolve) => setTimeout(resolve, 2 * TTL_MS));
    expect((await call(api.server, 'get', '/v1/customers', token)).status).toBe(200);
    expect(again.mock.calls.filter(([tenantId]) => tenantId === id)).toHaveLength(0);
  });
});

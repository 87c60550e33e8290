import { TenantChangeFeed, TenantRepository } from '@bulkhead/control-plane';
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
  const TTL_MS = 600;
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

  it('an unannounced change (SQL that does not even set updated_at) is enforced within the TTL', async () => {
    const tenant = await createTenant(api);
    const token = tokenFor(api, tenant);
    expect((await call(api.server, 'get', '/v1/customers', token)).status).toBe(200);

    await withPg(api.config.DATABASE_OWNER_URL, 'poll-test', (owner) => owner.query("UPDATE tenants SET status = 'suspended' WHERE id = $1", [tenant.id]));
    const started = Date.now();
    const denied = await eventually(async () => {
      const response = await call(api.server, 'get', '/v1/customers', token);
      return response.status === 403 ? response : undefined;
    }, 'the suspension made in SQL to be enforced');
    expectProblem(denied, 403, 'tenant_suspended');
    // Half a TTL between looks, plus the look itself and this test's own steps.
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
    await new Promise((resolve) => setTimeout(resolve, TTL_MS / 2));
    expect((await call(api.server, 'get', '/v1/customers', token)).status).toBe(200);
    expect(again.mock.calls.filter(([tenantId]) => tenantId === id)).toHaveLength(0);
  });
});

import './support/private-job-queue';
import type { RequestCountsView } from '@bulkhead/rate-limit';
import { FaultRedis, startFaultRedis } from './support/fault-services';
import { call, expectProblem } from './support/http';
import { pollUntil } from './support/request-load';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';

const READS = 8;
const INSTANCES = 2;

/**
 * Redis stopped under the API (a redis-server of this test's own; PostgreSQL is the suite's): the
 * in-process limiter takes over with this process's share of the limit, tenant requests keep
 * their answers and fields, and when Redis is back the limits are shared again and the counts
 * taken meanwhile reach Redis.
 */
describe('rate limits while Redis is unreachable', () => {
  let redis: FaultRedis;
  let api: TestApi;

  beforeAll(async () => {
    redis = await startFaultRedis();
    api = await startTestApi({
      REDIS_URL: redis.url,
      RATE_LIMIT_FREE: `read:${READS},write:4,export:1,ingest:1`,
      RATE_LIMIT_API_INSTANCES: String(INSTANCES),
    });
  });
  afterAll(async () => {
    await api?.close();
    await redis?.destroy();
  });

  it('falls back to an in-process limiter with its share of the limit, then shares again', async () => {
    const tenant = await createTenant(api, { tier: 'free' });
    const other = await createTenant(api, { tier: 'free' });
    const token = tokenFor(api, tenant);
    // One shared decision first, so the tenant's counts of this minute exist in Redis already.
    const before = await call(api.server, 'get', '/v1/customers', token);
    expect(before.status).toBe(200);
    expect(before.headers['ratelimit-policy']).toBe(`"read";q=${READS};w=60`);

    await redis.stop();
    const share = READS / INSTANCES;
    const down = [];
    for (let i = 0; i <= share; i++) down.push(await call(api.server, 'get', '/v1/customers', token));
    expect(down.slice(0, share).map((response) => response.status)).toEqual(Array(share).fill(200));
    for (const response of down) expect(response.headers['ratelimit-policy']).toBe(`"read";q=${share};w=60`);
    expectProblem(down[share], 429, 'rate_limited');
    expect(Number(down[share].headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Still per tenant: the other tenant's allowance is untouched.
    expect((await call(api.server, 'get', '/v1/customers', tokenFor(api, other))).status).toBe(200);

    await redis.start();
    // Shared again once ioredis has reconnected (it retries within a second); the Redis state
    // survived the restart (AOF), so this tenant still has READS - 1 left there.
    let back = before;
    await pollUntil(
      async () => {
        back = await call(api.server, 'get', '/v1/customers', tokenFor(api, other));
        return back.headers['ratelimit-policy'] === `"read";q=${READS};w=60`;
      },
      'shared limits after Redis returned',
      100,
    );
    expect(back.status).toBe(200);

    // The counts taken in memory during the outage were handed over to Redis.
    let view: RequestCountsView | undefined;
    await pollUntil(
      async () => {
        const response = await call(api.server, 'get', `/v1/admin/tenants/${tenant.id}/request-counts?minutes=5`, operatorToken(api));
        view = response.body as RequestCountsView;
        return response.status === 200 && view.admitted.read === 1 + share;
      },
      'outage counts in Redis',
      100,
    );
    expect(view?.refused.read).toBe(1);
  }, 60_000);
});

import './support/private-job-queue';
import { TenantRecord } from '@bulkhead/control-plane';
import { INestApplicationContext } from '@nestjs/common';
import { startFaultRedis, FaultRedis } from './support/fault-services';
import { call } from './support/http';
import { Answer, contractBreaches, pollUntil } from './support/request-load';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';
import { eventually, startTestWorker } from './support/test-worker';

/**
 * Redis restarted under the API and the worker, on a redis-server of this test's own (PostgreSQL
 * is the suite's, and stays up): enqueueing answers 503 + Retry-After while Redis is down, reads
 * that need only PostgreSQL go on, and jobs accepted before the restart complete after it.
 */
describe('Redis restart', () => {
  let redis: FaultRedis;
  let api: TestApi;
  let worker: INestApplicationContext;
  let tenant: TenantRecord;
  let token: string;

  beforeAll(async () => {
    redis = await startFaultRedis();
    const env = { REDIS_URL: redis.url, JOBS_OUTAGE_BACKOFF_MS: '100', JOBS_OUTAGE_BACKOFF_MAX_MS: '400' };
    api = await startTestApi(env);
    worker = await startTestWorker(env);
    tenant = await createTenant(api, { tier: 'pro' });
    token = tokenFor(api, tenant);
    const customer = await call(api.server, 'post', '/v1/customers', token, { email: 'redis@x.test', name: 'Redis' });
    await call(api.server, 'post', '/v1/orders', token, { customerId: customer.body.id, totalCents: 500, currency: 'EUR' });
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await redis?.destroy();
  });

  async function answer(method: 'get' | 'post', path: string, bearer = token): Promise<Answer> {
    const response = await call(api.server, method, path, bearer);
    const body = response.body as { code?: string; id?: string };
    return { route: `${method.toUpperCase()} ${path}`, status: response.status, contentType: response.headers['content-type'] ?? '', retryAfter: response.headers['retry-after'] ?? null, code: body.code };
  }

  it('refuses to enqueue with 503 while Redis is down, and completes the jobs accepted around the restart', async () => {
    const accepted: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await call(api.server, 'post', '/v1/exports', token);
      expect(response.status).toBe(202);
      accepted.push(response.body.id);
    }
    await redis.stop();

    const down: Answer[] = [];
    for (let i = 0; i < 3; i++) {
      down.push(await answer('post', '/v1/exports'));
      down.push(await answer('post', '/v1/customer-totals/recalculate'));
      down.push(await answer('get', '/v1/admin/jobs', operatorToken(api)));
    }
    const reads = await answer('get', '/v1/customers');
    await redis.start();

    expect(contractBreaches(down, () => false)).toEqual([]);
    expect(down.map((a) => a.code)).toEqual(expect.arrayContaining(['jobs_unavailable', 'service_unavailable']));
    expect(reads.status).toBe(200);

    // Back: enqueueing works again without a restart of the API (polled, 50 ms apart).
    await pollUntil(async () => {
      const response = await call(api.server, 'post', '/v1/exports', token);
      if (response.status === 202) accepted.push(response.body.id);
      return response.status === 202;
    }, 'enqueue after Redis returned', 100);

    for (const id of accepted) {
      const done = await eventually(async () => {
        const response = await call(api.server, 'get', `/v1/exports/${id}`, token);
        return response.body.status === 'pending' ? undefined : response.body;
      }, `export ${id}`);
      expect(done).toMatchObject({ status: 'completed', rowCount: 1 });
    }
  }, 60_000);
});

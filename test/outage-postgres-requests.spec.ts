import { TenantRecord } from '@bulkhead/control-plane';
import type { AddressInfo } from 'node:net';
import { startFaultPostgres, FaultPostgres } from './support/fault-services';
import { Answer, answerOf, contractBreaches, pollUntil, sleep, startLoad } from './support/request-load';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';

/**
 * PostgreSQL restarted, then stopped for a while, under a small request load, on a cluster of this
 * test's own. No request may get a 500: while the database is away every request that needs it is
 * a 503 problem+json with Retry-After, and the API recovers by itself once it is back.
 */
describe('PostgreSQL outage under request load', () => {
  let pg: FaultPostgres;
  let api: TestApi;
  let base: string;
  const tenants: Array<{ tenant: TenantRecord; token: string }> = [];

  beforeAll(async () => {
    pg = await startFaultPostgres();
    api = await startTestApi(pg.env);
    await api.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    // One tenant per isolation model: the shared pool, a schema in it, and a silo with its own pool.
    for (const tier of ['free', 'pro', 'enterprise'] as const) {
      const tenant = await createTenant(api, { tier });
      tenants.push({ tenant, token: tokenFor(api, tenant) });
    }
  });
  afterAll(async () => {
    await api?.close();
    await pg?.destroy();
  });

  async function request(client: number, round: number): Promise<Answer> {
    const { tenant, token } = tenants[(client + round) % tenants.length];
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    const route = round % 2 === 0 ? `GET /v1/customers (${tenant.isolation})` : `POST /v1/customers (${tenant.isolation})`;
    try {
      const response =
        round % 2 === 0
          ? await fetch(`${base}/v1/customers?limit=5`, { headers })
          : await fetch(`${base}/v1/customers`, { method: 'POST', headers, body: JSON.stringify({ email: `c${client}-${round}-${Date.now()}@x.test`, name: 'Load' }) });
      return await answerOf(route, response);
    } catch (error) {
      return { route, status: 0, contentType: '', retryAfter: null, code: String(error) };
    }
  }

  const succeeded = (answer: Answer) => answer.status === 200 || answer.status === 201;

  /** Every tenant can read and write again. */
  async function allServed(): Promise<boolean> {
    const answers = await Promise.all(tenants.flatMap((_, index) => [request(index, 0), request(index, 1)]));
    return answers.every(succeeded);
  }

  it('answers 503 + Retry-After (never 500) while PostgreSQL restarts or is down, and recovers by itself', async () => {
    expect(await allServed()).toBe(true);
    const load = startLoad(4, request);
    let restartedAt = 0;
    let outage: Answer[] = [];
    let recoveryPolls = 0;
    try {
      await sleep(300);
      await pg.restart();
      restartedAt = load.answers.length;
      recoveryPolls = await pollUntil(allServed, 'service after the restart', 40);
      await sleep(300);

      await pg.stop();
      const from = load.answers.length;
      await sleep(2500);
      outage = load.answers.slice(from);
      await pg.start();
      // Polled, not timed: each poll is one request per tenant and operation, 50 ms apart.
      recoveryPolls = Math.max(recoveryPolls, await pollUntil(allServed, 'service after the outage', 40));
      await sleep(300);
    } finally {
      await load.stop();
    }

    expect(contractBreaches(load.answers, succeeded)).toEqual([]);
    // The outage was seen, and only as 503s: the test could have failed.
    expect(outage.length).toBeGreaterThan(20);
    expect(outage.filter((answer) => answer.status === 503).length).toBeGreaterThan(outage.length * 0.9);
    expect(new Set(outage.filter((answer) => answer.status === 503).map((answer) => answer.code))).toEqual(new Set(['service_unavailable']));
    expect(load.answers.slice(0, restartedAt).some(succeeded)).toBe(true);
    // Recovered: the tail is served again (a read may still be shed as `overloaded` by a busy silo pool: that is load, not the outage).
    expect(load.answers.slice(-10).filter((answer) => !succeeded(answer) && answer.code !== 'overloaded')).toEqual([]);
    expect(load.answers.slice(-10).some(succeeded)).toBe(true);
    if (process.env.BULKHEAD_FAULT_REPORT) {
      process.stderr.write(`postgres outage: ${load.answers.length} answers, ${outage.length} during the stop, recovery within ${recoveryPolls} polls\n`);
    }
  }, 60_000);
});

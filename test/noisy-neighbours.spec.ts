// First: the jobs of this spec's worker stay on a queue of its own.
import { clearPrivateJobQueue } from './support/private-job-queue';
import { TenantRecord } from '@bulkhead/control-plane';
import { detectNoisy, NoisyDetector, Usage, UsageRecorder, UsageStore, minuteOf } from '@bulkhead/noisy-neighbours';
import { INestApplicationContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { call, expectProblem } from './support/http';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';
import { eventually, startTestWorker } from './support/test-worker';

const usageOf = (requests: number, dbMs = 0): Usage => ({ requests, db_ms: dbMs, job_ms: 0, rows_written: 0 });

describe('noisy-neighbour detection (the rule)', () => {
  const quiet = (count: number) => new Map(Array.from({ length: count }, (_, at) => [randomUUID(), usageOf(1000 + at * 10)] as const));

  it('flags a tenant at 3x the median and not one at 1.5x', () => {
    const usage = quiet(20);
    const loud = randomUUID();
    const busy = randomUUID();
    usage.set(loud, usageOf(3300));
    usage.set(busy, usageOf(1650));
    const noisy = detectNoisy(usage, { ratio: 2, minTenants: 3 });
    expect([...noisy.keys()]).toEqual([loud]);
    expect(noisy.get(loud)).toEqual([expect.objectContaining({ measure: 'requests', value: 3300 })]);
  });

  it('judges by the median, so one huge tenant cannot raise its own bar, and each measure apart', () => {
    const usage = quiet(5);
    const huge = randomUUID();
    const slow = randomUUID();
    usage.set(huge, usageOf(1_000_000));
    usage.set(slow, usageOf(1000, 600_000));
    const noisy = detectNoisy(usage, { ratio: 2, minTenants: 3 });
    expect(noisy.get(huge)?.map((finding) => finding.measure)).toEqual(['requests']);
    expect(noisy.get(slow)?.map((finding) => finding.measure)).toEqual(['db_ms']);
  });

  it('compares nobody with too few tenants, and never flags usage under the floor whatever the median', () => {
    expect(detectNoisy(new Map([[randomUUID(), usageOf(10)], [randomUUID(), usageOf(100_000)]]), { ratio: 2, minTenants: 3 }).size).toBe(0);
    const idle = new Map(Array.from({ length: 10 }, () => [randomUUID(), usageOf(1)] as const));
    idle.set(randomUUID(), usageOf(100));
    expect(detectNoisy(idle, { ratio: 2, minTenants: 3 }).size).toBe(0);
  });
});

describe('noisy neighbours (the service)', () => {
  let api: TestApi;
  let hook: Server;
  const received: Array<Record<string, unknown>> = [];
  let tenants: TenantRecord[];
  let operator: string;

  beforeAll(async () => {
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    api = await startTestApi({
      NOISY_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
      NOISY_THROTTLE_FACTOR: '0.5',
      RATE_LIMIT_FREE: 'read:10,write:10,export:5,ingest:60',
      METRICS_TOKEN: 'scrape-token-for-tests-0123456789',
      METRICS_HEAVY_TENANTS: '3',
    });
    operator = operatorToken(api);
    tenants = [];
    for (let n = 0; n < 6; n++) tenants.push(await createTenant(api, { tier: 'free', isolation: n % 3 === 0 ? 'pool' : n % 3 === 1 ? 'schema' : 'silo' }));
  });
  afterAll(async () => {
    await api?.close();
    await new Promise((resolve) => hook?.close(resolve));
  });

  it("records each tenant's requests and database time per minute in Redis", async () => {
    const [tenant] = tenants;
    const token = tokenFor(api, tenant);
    for (let n = 0; n < 4; n++) expect((await call(api.server, 'get', '/v1/customers', token)).status).toBe(200);
    // The access hooks run after the answer is sent: the last one may land a moment later.
    let usage = { requests: 0, db_ms: 0 };
    for (const until = Date.now() + 5000; usage.requests < 4 && Date.now() < until; ) {
      await api.app.get(UsageRecorder).flush();
      const minute = minuteOf(Date.now());
      const [now, before] = [(await api.app.get(UsageStore).minute(minute)).get(tenant.id), (await api.app.get(UsageStore).minute(minute - 1)).get(tenant.id)];
      usage = { requests: (now?.requests ?? 0) + (before?.requests ?? 0), db_ms: (now?.db_ms ?? 0) + (before?.db_ms ?? 0) };
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(usage.requests).toBe(4);
    expect(usage.db_ms).toBeGreaterThan(0);
  });

  it('flags a 3x tenant once (log, audit, webhook, history, current list, lower limits), never the 1.5x one, and clears it the first quiet minute', async () => {
    const store = api.app.get(UsageStore);
    const detector = api.app.get(NoisyDetector);
    // Minutes of their own, far from now: no real traffic lands in them.
    const minute = minuteOf(Date.now()) - 10_000 - Math.floor(Math.random() * 100_000);
    const [loud, busy, ...rest] = tenants;
    const load = (factorLoud: number) =>
      new Map<string, Partial<Usage>>([[loud.id, { requests: 600 * factorLoud }], [busy.id, { requests: 900 }], ...rest.map((tenant) => [tenant.id, { requests: 600 }] as const)]);

    await store.add(minute, load(3));
    const first = await detector.evaluate(minute);
    expect(first).toMatchObject({ evaluated: true, flagged: [loud.id], cleared: [] });
    expect(first.noisy).not.toContain(busy.id);
    // The same minute again (another worker): evaluated once.
    expect((await detector.evaluate(minute)).evaluated).toBe(false);

    const current = await call(api.server, 'get', '/v1/admin/noisy-tenants', operator);
    expect(current.status).toBe(200);
    expect(current.body.items).toContainEqual(
      expect.objectContaining({ tenantId: loud.id, findings: [expect.objectContaining({ measure: 'requests', value: 1800, median: 600, ratio: 3 })] }),
    );
    expect(current.body.items.map((item: { tenantId: string }) => item.tenantId)).not.toContain(busy.id);
    const deadline = Date.now() + 5000;
    while (!received.some((body) => body.tenantId === loud.id) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received.find((body) => body.tenantId === loud.id)).toMatchObject({ type: 'tenant.noisy', ratioThreshold: 2 });
    const audit = await call(api.server, 'get', '/v1/admin/audit?action=tenant.noisy', operator);
    expect(audit.status).toBe(200);
    expect(audit.body.items.some((entry: { resource?: { id?: string } }) => entry.resource?.id === loud.id)).toBe(true);

    // Throttled to half its tier's limit on this instance (announced over pub/sub), others untouched.
    const throttledAt = Date.now() + 5000;
    let refusedAfter = 0;
    while (Date.now() < throttledAt) {
      refusedAfter = 0;
      const token = tokenFor(api, loud);
      for (let n = 0; n < 10; n++) {
        if ((await call(api.server, 'get', '/v1/projects', token)).status === 429) break;
        refusedAfter++;
      }
      if (refusedAfter <= 5) break;
    }
    expect(refusedAfter).toBeLessThanOrEqual(5);
    const other = tokenFor(api, rest[0]);
    for (let n = 0; n < 8; n++) expect((await call(api.server, 'get', '/v1/projects', other)).status).toBe(200);

    // The next minute it is back to the median: cleared.
    await store.add(minute + 1, load(1));
    expect(await detector.evaluate(minute + 1)).toMatchObject({ flagged: [], cleared: [loud.id] });
    const after = await call(api.server, 'get', '/v1/admin/noisy-tenants', operator);
    expect(after.body.items.map((item: { tenantId: string }) => item.tenantId)).not.toContain(loud.id);
    const history = await call(api.server, 'get', '/v1/admin/noisy-tenants/history?limit=50', operator);
    expect(history.status).toBe(200);
    const mine = history.body.items.filter((event: { tenantId: string }) => event.tenantId === loud.id).map((event: { event: string }) => event.event);
    expect(mine).toEqual(['cleared', 'flagged']);
    // Paged one at a time from the newest; a cursor naming no event (erased with its tenant) is refused, not read as the end.
    const newest = await call(api.server, 'get', '/v1/admin/noisy-tenants/history?limit=1', operator);
    const second = await call(api.server, 'get', `/v1/admin/noisy-tenants/history?limit=1&before=${newest.body.next}`, operator);
    expect(second.body.items[0].id).not.toBe(newest.body.items[0].id);
    expect(Date.parse(second.body.items[0].createdAt)).toBeLessThanOrEqual(Date.parse(newest.body.items[0].createdAt));
    expectProblem(await call(api.server, 'get', `/v1/admin/noisy-tenants/history?before=${randomUUID()}`, operator), 400, 'cursor_unknown');
    expect((await call(api.server, 'get', '/v1/admin/noisy-tenants', tokenFor(api, loud))).status).toBe(403);
  });

  it('names at most METRICS_HEAVY_TENANTS tenants on /metrics, heaviest first', async () => {
    const store = api.app.get(UsageStore);
    const last = minuteOf(Date.now()) - 1;
    // Heavier than anything an earlier run of this suite left in the same minute (the counts live 2 h).
    const base = Date.now() * 10;
    const heavy = Array.from({ length: 6 }, (_, at) => [randomUUID(), { requests: base + at }] as const);
    await store.add(last, new Map(heavy));
    const text = (await request(api.server).get('/metrics').set('Authorization', 'Bearer scrape-token-for-tests-0123456789')).text;
    const lines = text.split('\n').filter((line) => line.startsWith('bulkhead_tenant_heaviest_requests{'));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain(`rank="1",tenant_id="${heavy[5][0]}"`);
  });
});

describe('noisy neighbours: job time', () => {
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

  it("adds each tenant job's run time to its tenant's usage (the recorder is one of the worker's job-run observers)", async () => {
    const tenant = await createTenant(api, { tier: 'free', isolation: 'pool' });
    const other = await createTenant(api, { tier: 'free', isolation: 'pool' });
    expect((await call(api.server, 'post', '/v1/customer-totals/recalculate', tokenFor(api, tenant))).status).toBe(202);
    const store = worker.get(UsageStore);
    const jobMs = async (tenantId: string) => {
      const minute = minuteOf(Date.now());
      const [now, before] = [(await store.minute(minute)).get(tenantId), (await store.minute(minute - 1)).get(tenantId)];
      return (now?.job_ms ?? 0) + (before?.job_ms ?? 0);
    };
    const recorded = await eventually(async () => {
      await worker.get(UsageRecorder).flush();
      const ms = await jobMs(tenant.id);
      return ms > 0 ? ms : undefined;
    }, "the job's run time in the usage counts");
    expect(recorded).toBeGreaterThan(0);
    expect(await jobMs(other.id)).toBe(0);
  });
});

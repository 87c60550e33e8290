import { clearPrivateJobQueue } from './support/private-job-queue';
import { IsolationModel } from '@bulkhead/config';
import { TenantRecord } from '@bulkhead/control-plane';
import { QuotaAlert, QuotaAlertHandler, QuotaAlertListener } from '@bulkhead/metering';
import { runWithTenant, TenantData, tenantContextOf, currentTenant } from '@bulkhead/tenancy';
import { INestApplicationContext, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { call, expectProblem } from './support/http';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';
import { eventually, startTestWorker } from './support/test-worker';

const delivered: Array<QuotaAlert & { contextTenant: string }> = [];

/** What another module reacting to quota alerts looks like. */
@Injectable()
@QuotaAlertListener()
class RecordingQuotaListener implements QuotaAlertHandler {
  async onQuotaAlert(alert: QuotaAlert): Promise<void> {
    delivered.push({ ...alert, contextTenant: currentTenant().tenantId });
  }
}

const LIMIT = 20;
const WRITERS = 50;

/** Plan quotas enforced at write time, in every isolation model. */
describe.each<IsolationModel>(['pool', 'schema', 'silo'])('quotas (%s)', (model) => {
  let api: TestApi;
  let tenant: TenantRecord;
  let token: string;
  let worker: INestApplicationContext;
  const PLANS = `free:orders.created=${LIMIT}/month|exports.requested=3/day;pro:orders.created=1000/month`;

  beforeAll(async () => {
    // Its own queue: the worker here must not take other suites' jobs, nor they its alerts.
    await clearPrivateJobQueue();
    // A queueing budget no loaded CI machine reaches: the 50 concurrent writers test the quota's
    // exactness, and one of them shed as overloaded (503, the admission governor's answer when a
    // write waits longer than POOL_QUEUE_BUDGET_MS) would be neither 201 nor 429.
    api = await startTestApi({ METERING_PLANS: PLANS, POOL_QUEUE_BUDGET_MS: '30000' });
    worker = await startTestWorker({ METERING_PLANS: PLANS }, [RecordingQuotaListener]);
    tenant = await createTenant(api, { isolation: model, tier: 'free' });
    token = tokenFor(api, tenant);
  });
  afterAll(async () => {
    await worker.close();
    await api.close();
    await clearPrivateJobQueue();
  });

  const sql = <R>(text: string, values: unknown[] = []) =>
    runWithTenant(tenantContextOf(tenant, 'test'), () => api.app.get(TenantData).transaction((tx) => tx.statement<R>(text, values), { readOnly: true }));

  it(`lets exactly ${LIMIT} of ${WRITERS} concurrent order writers through, refuses the rest with 429 quota_exceeded, and writes nothing for them`, async () => {
    const customer = await call(api.server, 'post', '/v1/customers', token, { name: 'C', email: `${randomUUID()}@example.com` });
    const answers = await Promise.all(
      Array.from({ length: WRITERS }, () => call(api.server, 'post', '/v1/orders', token, { customerId: customer.body.id, totalCents: 1, currency: 'EUR' })),
    );
    const statuses = answers.map((answer) => answer.status);
    // Any other answer with its problem, so a failure says what it was.
    expect(answers.filter((answer) => answer.status !== 201 && answer.status !== 429).map((answer) => ({ status: answer.status, body: answer.body }))).toEqual([]);
    expect(statuses.filter((status) => status === 201)).toHaveLength(LIMIT);
    expect(statuses.filter((status) => status === 429)).toHaveLength(WRITERS - LIMIT);
    const now = new Date();
    const resetsAt = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
    for (const refused of answers.filter((answer) => answer.status === 429)) {
      expectProblem(refused, 429, 'quota_exceeded');
      expect(refused.body).toMatchObject({ limit: LIMIT, used: LIMIT, resetsAt, meter: 'orders.created' });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    }
    // The refused orders rolled back with their usage: the tables agree with the meter.
    const [orders] = await sql<{ n: string }>('SELECT count(*)::text AS n FROM orders WHERE tenant_id = $1');
    const [events] = await sql<{ n: string }>("SELECT count(*)::text AS n FROM usage_events WHERE tenant_id = $1 AND meter = 'orders.created'");
    const month = await call(api.server, 'get', `/v1/usage?meter=orders.created&from=2020-01-01T00:00:00Z&to=2050-01-01T00:00:00Z&granularity=month`, token);
    expect({ orders: orders.n, events: events.n, metered: month.body.total }).toEqual({ orders: String(LIMIT), events: String(LIMIT), metered: String(LIMIT) });
    // 80% and 100% were each crossed once.
    const alerts = await sql<{ threshold: number; used: string }>("SELECT threshold, used::text AS used FROM usage_quota_alerts WHERE tenant_id = $1 AND meter = 'orders.created' ORDER BY threshold");
    expect(alerts).toEqual([
      { threshold: 80, used: String(LIMIT * 0.8) },
      { threshold: 100, used: String(LIMIT) },
    ]);
    // Listeners in the worker hear of each crossing, in the tenant's context.
    const heard = await eventually(async () => {
      const mine = delivered.filter((alert) => alert.tenantId === tenant.id);
      return mine.length >= 2 ? mine : undefined;
    }, 'quota alerts delivered');
    expect(heard.map((alert) => [alert.threshold, alert.used, alert.limit, alert.contextTenant]).sort()).toEqual([
      [100, LIMIT, LIMIT, tenant.id],
      [80, LIMIT * 0.8, LIMIT, tenant.id],
    ]);
  });

  it('refuses exports past the daily quota before enqueueing anything', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await call(api.server, 'post', '/v1/exports', token)).status);
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
    const [exports] = await sql<{ n: string }>('SELECT count(*)::text AS n FROM order_exports WHERE tenant_id = $1');
    expect(exports.n).toBe('3');
  });
});

import { clearPrivateJobQueue } from './support/private-job-queue';
import { TenantRecord } from '@bulkhead/control-plane';
import { runWithTenant, TenantData, tenantContextOf } from '@bulkhead/tenancy';
import { randomUUID } from 'node:crypto';
import { call } from './support/http';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';

/**
 * A quota alert's id is what listeners deduplicate on (delivery is at least once): it must name the
 * tenant, or the first tenant to cross a threshold of a meter in a period would make every other
 * tenant's crossing of it look like a repeat.
 */
describe('quota alert ids', () => {
  let api: TestApi;
  let one: TenantRecord;
  let two: TenantRecord;

  beforeAll(async () => {
    await clearPrivateJobQueue();
    api = await startTestApi({ METERING_PLANS: 'free:orders.created=1/month' });
    one = await createTenant(api, { tier: 'free', isolation: 'pool' });
    two = await createTenant(api, { tier: 'free', isolation: 'pool' });
  });
  afterAll(async () => {
    await api?.close();
    await clearPrivateJobQueue();
  });

  const alertsOf = (tenant: TenantRecord) =>
    runWithTenant(tenantContextOf(tenant, 'test'), () =>
      api.app.get(TenantData).transaction((tx) => tx.statement<{ id: string; threshold: number }>("SELECT id, threshold FROM usage_quota_alerts WHERE tenant_id = $1 AND meter = 'orders.created' ORDER BY threshold"), { readOnly: true }),
    );

  it("differ between two tenants crossing the same threshold of the same meter in the same period", async () => {
    for (const tenant of [one, two]) {
      const token = tokenFor(api, tenant);
      const customer = await call(api.server, 'post', '/v1/customers', token, { name: 'C', email: `${randomUUID()}@example.com` });
      expect((await call(api.server, 'post', '/v1/orders', token, { customerId: customer.body.id, totalCents: 1, currency: 'EUR' })).status).toBe(201);
    }
    const [ofOne, ofTwo] = [await alertsOf(one), await alertsOf(two)];
    expect([ofOne.map((alert) => alert.threshold), ofTwo.map((alert) => alert.threshold)]).toEqual([[80, 100], [80, 100]]);
    expect(ofOne.map((alert) => alert.id).filter((id) => ofTwo.some((other) => other.id === id))).toEqual([]);
  });
});

import { randomUUID } from 'node:crypto';
import { IsolationModel } from '@bulkhead/config';
import { call, expectProblem, Method } from './support/http';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';

/**
 * Tenant A's token against tenant B's resources on every route and method. The answer must be
 * exactly what a random id gets (same status, same body), and B's data must be unchanged.
 */
const PAIRS: Array<[IsolationModel, IsolationModel]> = [
  ['pool', 'pool'],
  ['schema', 'schema'],
  ['silo', 'silo'],
  ['pool', 'silo'],
  ['silo', 'schema'],
  ['schema', 'pool'],
];

/** What a Citus error carries in its text and CONTEXT: shard tables (`orders_102279`) and the worker (`on 127.0.0.1:5442`). */
const NODE_OR_SHARD = /_\d{5,}\b|while executing command|\b\d{1,3}(\.\d{1,3}){3}\b|:\d{4,5}\b/;

describe.each(PAIRS)('isolation matrix: A in %s, B in %s', (modelA, modelB) => {
  let api: TestApi;
  let tokenA: string;
  let tokenB: string;
  let customerB: { id: string; email: string };
  let orderB: { id: string; customerId: string };
  let customerA: { id: string };

  beforeAll(async () => {
    api = await startTestApi();
    const [a, b] = await Promise.all([createTenant(api, { isolation: modelA }), createTenant(api, { isolation: modelB })]);
    expect([a.isolation, b.isolation]).toEqual([modelA, modelB]);
    tokenA = tokenFor(api, a);
    tokenB = tokenFor(api, b);
    customerA = (await call(api.server, 'post', '/v1/customers', tokenA, { email: 'a@a.test', name: 'A' })).body;
    customerB = (await call(api.server, 'post', '/v1/customers', tokenB, { email: 'b@b.test', name: 'B' })).body;
    orderB = (await call(api.server, 'post', '/v1/orders', tokenB, { customerId: customerB.id, totalCents: 500, currency: 'EUR' })).body;
    expect(customerB.id).toBeDefined();
    expect(orderB.id).toBeDefined();
  });
  afterAll(() => api.close());

  const routes: Array<{ name: string; method: Method; path: (ids: { customer: string; order: string }) => string; body?: unknown }> = [
    { name: 'GET customer', method: 'get', path: (ids) => `/v1/customers/${ids.customer}` },
    { name: 'PATCH customer', method: 'patch', path: (ids) => `/v1/customers/${ids.customer}`, body: { name: 'hijacked' } },
    { name: 'DELETE customer', method: 'delete', path: (ids) => `/v1/customers/${ids.customer}` },
    { name: 'GET order', method: 'get', path: (ids) => `/v1/orders/${ids.order}` },
    { name: 'PATCH order', method: 'patch', path: (ids) => `/v1/orders/${ids.order}`, body: { status: 'cancelled' } },
    { name: 'DELETE order', method: 'delete', path: (ids) => `/v1/orders/${ids.order}` },
  ];

  it.each(routes)("$name on another tenant's id is indistinguishable from a random id", async (route) => {
    const foreign = await call(api.server, route.method, route.path({ customer: customerB.id, order: orderB.id }), tokenA, route.body);
    const missing = await call(api.server, route.method, route.path({ customer: randomUUID(), order: randomUUID() }), tokenA, route.body);
    expectProblem(foreign, 404);
    expect(foreign.status).toBe(missing.status);
    expect(foreign.text).toBe(missing.text);
    expect(foreign.headers['content-type']).toBe(missing.headers['content-type']);
  });

  it("leaves the other tenant's rows untouched", async () => {
    const customer = await call(api.server, 'get', `/v1/customers/${customerB.id}`, tokenB);
    const order = await call(api.server, 'get', `/v1/orders/${orderB.id}`, tokenB);
    expect(customer.status).toBe(200);
    expect(customer.body.name).toBe('B');
    expect(order.body.status).toBe('pending');
  });

  it('lists only the caller’s own rows, also when filtering by another tenant’s customer', async () => {
    const customers = await call(api.server, 'get', '/v1/customers?limit=100', tokenA);
    expect(customers.body.items.map((c: { id: string }) => c.id)).toEqual([customerA.id]);
    const orders = await call(api.server, 'get', `/v1/orders?customerId=${customerB.id}`, tokenA);
    expect(orders.status).toBe(200);
    expect(orders.body.items).toEqual([]);
    const cursorFromB = await call(api.server, 'get', `/v1/orders?after=${orderB.id}`, tokenA);
    expect(cursorFromB.body.items).toEqual([]);
  });

  it('refuses a body carrying tenant_id or tenantId, and writes nothing', async () => {
    for (const body of [
      { email: 'x@a.test', name: 'X', tenant_id: customerB.id },
      { email: 'y@a.test', name: 'Y', tenantId: customerB.id },
    ]) {
      const response = await call(api.server, 'post', '/v1/customers', tokenA, body);
      expectProblem(response, 400, 'validation_failed');
    }
    const list = await call(api.server, 'get', '/v1/customers?limit=100', tokenA);
    expect(list.body.items).toHaveLength(1);
  });

  it('refuses a PATCH that tries to move a row to another tenant', async () => {
    const patch = await call(api.server, 'patch', `/v1/customers/${customerA.id}`, tokenA, { tenantId: customerB.id, name: 'moved' });
    expectProblem(patch, 400, 'validation_failed');
    const stillA = await call(api.server, 'get', `/v1/customers/${customerA.id}`, tokenA);
    expect(stillA.body.name).toBe('A');
  });

  it("an order pointing at another tenant's customer fails exactly like one pointing at a random id", async () => {
    const foreign = await call(api.server, 'post', '/v1/orders', tokenA, { customerId: customerB.id, totalCents: 1, currency: 'EUR' });
    const random = await call(api.server, 'post', '/v1/orders', tokenA, { customerId: randomUUID(), totalCents: 1, currency: 'EUR' });
    expectProblem(foreign, 422, 'customer_reference_unknown');
    expect(foreign.text).toBe(random.text);
    expect(foreign.text).not.toMatch(NODE_OR_SHARD);
  });

  it('scopes email uniqueness to the tenant and reveals nothing else on a duplicate', async () => {
    const sameEmailOtherTenant = await call(api.server, 'post', '/v1/customers', tokenA, { email: customerB.email, name: 'Same email' });
    expect(sameEmailOtherTenant.status).toBe(201);
    const duplicate = await call(api.server, 'post', '/v1/customers', tokenA, { email: customerB.email.toUpperCase(), name: 'Dup' });
    expectProblem(duplicate, 409, 'customer_email_taken');
    expect(duplicate.text).not.toMatch(/customers_tenant_email_key|tenant_id|Key \(/);
    expect(duplicate.text).not.toMatch(NODE_OR_SHARD);
    await call(api.server, 'delete', `/v1/customers/${sameEmailOtherTenant.body.id}`, tokenA);
  });

  it('a header or subdomain naming another tenant is 403 even with a valid token', async () => {
    const header = await call(api.server, 'get', '/v1/customers', tokenA, undefined, { 'X-Tenant-Id': randomUUID() });
    expectProblem(header, 403, 'tenant_mismatch');
  });
});

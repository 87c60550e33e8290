import request from 'supertest';
import { TenantRecord } from '@bulkhead/control-plane';
import { call, expectProblem } from './support/http';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';

/** Every kind of bad input is a clear 4xx problem+json, never a 500 and never a partial write. */
describe('bad input', () => {
  let api: TestApi;
  let tenant: TenantRecord;
  let token: string;
  let customerId: string;

  beforeAll(async () => {
    api = await startTestApi();
    tenant = await createTenant(api);
    token = tokenFor(api, tenant);
    customerId = (await call(api.server, 'post', '/v1/customers', token, { email: 'keep@x.test', name: 'Keep' })).body.id;
  });
  afterAll(() => api.close());

  const raw = (path: string, body: string, type = 'application/json') =>
    request(api.server).post(path).set('Authorization', `Bearer ${token}`).set('Content-Type', type).send(body);

  async function counts(): Promise<[number, number]> {
    const customers = await call(api.server, 'get', '/v1/customers?limit=100', token);
    const orders = await call(api.server, 'get', '/v1/orders?limit=100', token);
    return [customers.body.items.length, orders.body.items.length];
  }

  it('malformed JSON is 400', async () => {
    for (const body of ['{bad', '{"email": "a@b.test",}', '', 'null', '[1,2]', '"just a string"', '{"__proto__": {"admin": true}, "email": 1}']) {
      const response = await raw('/v1/customers', body);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('an oversize body is 413', async () => {
    const response = await raw('/v1/customers', JSON.stringify({ email: 'big@x.test', name: 'x'.repeat(200 * 1024) }));
    expectProblem(response, 413, 'payload_too_large');
  });

  it('a body that is not JSON is 415', async () => {
    expectProblem(await raw('/v1/customers', 'email=a@b.test&name=x', 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type');
    expectProblem(await raw('/v1/customers', '<xml/>', 'text/xml'), 415, 'unsupported_media_type');
  });

  it.each([
    ['email not an email', { email: 'nope', name: 'x' }, 'email'],
    ['email wrong type', { email: 42, name: 'x' }, 'email'],
    ['name empty', { email: 'e1@x.test', name: '' }, 'name'],
    ['name too long', { email: 'e2@x.test', name: 'x'.repeat(201) }, 'name'],
    ['name an object', { email: 'e3@x.test', name: { $gt: '' } }, 'name'],
    ['missing fields', {}, 'email'],
    ['unknown field', { email: 'e4@x.test', name: 'x', role: 'admin' }, 'role'],
  ])('customer: %s is 400 with field details', async (_name, body, field) => {
    const response = await call(api.server, 'post', '/v1/customers', token, body);
    expectProblem(response, 400, 'validation_failed');
    expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it.each([
    ['negative total', { totalCents: -1, currency: 'EUR' }, 'totalCents'],
    ['fractional total', { totalCents: 1.5, currency: 'EUR' }, 'totalCents'],
    ['total as a string', { totalCents: '100', currency: 'EUR' }, 'totalCents'],
    ['huge total', { totalCents: 1e20, currency: 'EUR' }, 'totalCents'],
    ['bad currency', { totalCents: 1, currency: 'euro' }, 'currency'],
    ['bad status', { totalCents: 1, currency: 'EUR', status: 'stolen' }, 'status'],
    ['customerId not a uuid', { totalCents: 1, currency: 'EUR', customerId: "1' OR '1'='1" }, 'customerId'],
  ])('order: %s is 400 with field details', async (_name, body, field) => {
    const response = await call(api.server, 'post', '/v1/orders', token, { customerId, ...body });
    expectProblem(response, 400, 'validation_failed');
    expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('non-uuid ids and cursors are 400 on every route', async () => {
    for (const [method, path] of [
      ['get', '/v1/customers/123'],
      ['patch', '/v1/customers/..%2f..%2fetc'],
      ['delete', "/v1/customers/'%20OR%201=1"],
      ['get', '/v1/orders/not-a-uuid'],
      ['get', '/v1/orders?after=zzz'],
      ['get', '/v1/orders?customerId=1'],
      ['get', '/v1/customers?limit=1000'],
      ['get', '/v1/customers?limit=abc'],
      ['get', '/v1/customers?unknown=1'],
    ] as const) {
      const response = await call(api.server, method, path, token, method === 'patch' ? { name: 'x' } : undefined);
      expectProblem(response, 400);
    }
  });

  it('hostile strings are stored literally, not interpreted', async () => {
    const name = `Robert'); DROP TABLE customers;-- \u0000-free ${'\u202e'}`;
    const created = await call(api.server, 'post', '/v1/customers', token, { email: 'bobby@x.test', name: name.replace('\u0000', '') });
    expect(created.status).toBe(201);
    const got = await call(api.server, 'get', `/v1/customers/${created.body.id}`, token);
    expect(got.body.name).toBe(name.replace('\u0000', ''));
    await call(api.server, 'delete', `/v1/customers/${created.body.id}`, token);
  });

  it('a NUL byte in a string is a 4xx, not a database error', async () => {
    const response = await call(api.server, 'post', '/v1/customers', token, { email: 'nul@x.test', name: 'a\u0000b' });
    expectProblem(response, 400, 'bad_request');
    expect(response.body.detail).toMatch(/NUL/);
  });

  it('hostile tenant slugs are refused by the operator API', async () => {
    for (const slug of ['Acme', 'a', 'a--b', '-ab', 'ab-', 'a_b', 'acme; drop schema public', '../etc', 'x'.repeat(41), 'ünïcode']) {
      const response = await call(api.server, 'post', '/v1/admin/tenants', operatorToken(api), { slug, name: 'x', tier: 'free' });
      expectProblem(response, 400, 'validation_failed');
    }
  });

  it('none of the above wrote anything', async () => {
    expect(await counts()).toEqual([1, 0]);
  });
});

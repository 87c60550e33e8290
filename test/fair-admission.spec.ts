import type { AddressInfo } from 'node:net';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';

/**
 * One API process, a 4-connection shared pool that one tenant alone could fill, and that tenant
 * flooding it: the quiet tenants are served without a single error, and the noisy tenant, if it is
 * refused at all, gets 503 problem+json with Retry-After. With the defaults, a moderate spread of
 * load sheds nothing. (The order of admission is proven in the gate's own spec.)
 */
describe('fair admission to the database pool', () => {
  let api: TestApi;
  let base: string;

  async function get(path: string, token: string): Promise<{ status: number; type: string; retryAfter: string | null }> {
    const response = await fetch(base + path, { headers: { Authorization: `Bearer ${token}` } });
    await response.arrayBuffer();
    return { status: response.status, type: response.headers.get('content-type') ?? '', retryAfter: response.headers.get('retry-after') };
  }

  async function seeded(token: string): Promise<void> {
    const customer = await fetch(base + '/v1/customers', {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: `c-${Math.random().toString(36).slice(2)}@fair.test`, name: 'Fair' }),
    }).then((r) => r.json() as Promise<{ id: string }>);
    for (let i = 0; i < 20; i++) {
      await fetch(base + '/v1/orders', {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ customerId: customer.id, totalCents: 100 + i, currency: 'EUR' }),
      });
    }
  }

  afterEach(() => api?.close());

  it('serves every quiet tenant while one tenant floods a 4-connection pool, and answers the flood only with reads or 503 + Retry-After', async () => {
    api = await startTestApi({ DATABASE_POOL_MAX: '4', TENANT_MAX_CONNECTIONS: '4', TENANT_MAX_QUEUE: '32' });
    await api.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    const noisy = tokenFor(api, await createTenant(api));
    const quiet = await Promise.all(Array.from({ length: 10 }, async () => tokenFor(api, await createTenant(api))));
    await seeded(noisy);

    const flood = Promise.all(Array.from({ length: 200 }, () => get('/v1/orders?limit=100', noisy)));
    const served = Promise.all(
      quiet.map(async (token) => {
        const results = [];
        for (let i = 0; i < 5; i++) results.push(await get('/v1/orders?limit=100', token));
        return results;
      }),
    );
    const [noisyResults, quietResults] = await Promise.all([flood, served]);

    expect(quietResults.flat().map((r) => r.status).filter((status) => status !== 200)).toEqual([]);
    // Whether the flood is refused at all depends on how fast this machine drains it; what it may
    // never get is anything but a served read or a 503 with Retry-After.
    const refused = noisyResults.filter((r) => r.status !== 200);
    expect(noisyResults.length - refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r).toMatchObject({ status: 503, type: expect.stringMatching(/^application\/problem\+json/), retryAfter: expect.stringMatching(/^\d+$/) });
    }
  });

  it('sheds nothing with the defaults at 64 requests in flight over 9 tenants', async () => {
    api = await startTestApi();
    await api.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    const tokens = await Promise.all(Array.from({ length: 9 }, async () => tokenFor(api, await createTenant(api))));
    const results = await Promise.all(Array.from({ length: 64 }, (_, i) => get('/v1/orders?limit=100', tokens[i % 9])));
    expect(results.map((r) => r.status).filter((status) => status !== 200)).toEqual([]);
  });
});

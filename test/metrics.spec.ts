import { TenantRecord } from '@bulkhead/control-plane';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { call } from './support/http';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';

const METRICS_TOKEN = 'scrape-token-for-tests-0123456789';

describe('/metrics', () => {
  let api: TestApi;
  let tenants: TenantRecord[];

  beforeAll(async () => {
    api = await startTestApi({ METRICS_TOKEN, METRICS_HEAVY_TENANTS: '2' });
    tenants = [await createTenant(api, { tier: 'pro', isolation: 'pool' }), await createTenant(api, { tier: 'free', isolation: 'schema' }), await createTenant(api, { tier: 'enterprise', isolation: 'silo' })];
  });
  afterAll(async () => {
    await api?.close();
  });

  const scrape = async () => {
    const response = await request(api.server).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    return response.text;
  };

  it('is not served without the scrape token: 404, as if absent', async () => {
    expect((await request(api.server).get('/metrics')).status).toBe(404);
    expect((await request(api.server).get('/metrics').set('Authorization', 'Bearer wrong-token-wrong-token-wrong')).status).toBe(404);
    expect((await request(api.server).get('/metrics').set('Authorization', `Bearer ${tokenFor(api, tenants[0])}`)).status).toBe(404);
  });

  it('counts requests by route template, method, status and tier, with no tenant id or raw URL in any label', async () => {
    const [pro] = tenants;
    const token = tokenFor(api, pro);
    const created = await call(api.server, 'post', '/v1/customers', token, { name: 'C', email: `${randomUUID()}@example.com` });
    expect(created.status).toBe(201);
    for (let n = 0; n < 3; n++) expect((await call(api.server, 'get', `/v1/customers/${created.body.id}`, token)).status).toBe(200);
    expect((await call(api.server, 'get', `/v1/customers/${randomUUID()}`, token)).status).toBe(404);
    expect((await call(api.server, 'get', '/v1/customers', undefined)).status).toBe(401);
    const absent = await call(api.server, 'get', `/no/such/${randomUUID()}`, token);
    expect(absent.status).toBe(404);
    // /metrics refused gives the very answer a path that does not exist gets: nothing tells a prober it is there.
    const withoutInstance = ({ instance: _instance, ...rest }: Record<string, unknown>) => rest;
    const seen = (response: { status: number; body: Record<string, unknown>; headers: Record<string, string> }) => ({
      status: response.status,
      body: withoutInstance(response.body),
      headers: Object.keys(response.headers).filter((name) => !['date', 'x-request-id', 'content-length', 'connection', 'keep-alive'].includes(name)).sort(),
    });
    expect(seen(await request(api.server).get('/metrics'))).toEqual(seen(absent));
    // With a query string too (a prober's first variation).
    expect(seen(await request(api.server).get('/metrics?x=1'))).toEqual(seen(await call(api.server, 'get', `/no/such/${randomUUID()}?x=1`, token)));
    const text = await scrape();
    expect(text).toMatch(/bulkhead_http_request_duration_seconds_count\{method="GET",route="\/v1\/customers\/:id",status="200",tier="pro"\} 3\n/);
    expect(text).toMatch(/bulkhead_http_request_duration_seconds_count\{method="GET",route="\/v1\/customers\/:id",status="404",tier="pro"\} 1\n/);
    expect(text).toMatch(/bulkhead_http_request_duration_seconds_count\{method="POST",route="\/v1\/customers",status="201",tier="pro"\} 1\n/);
    expect(text).toMatch(/bulkhead_http_request_duration_seconds_count\{method="GET",route="\/v1\/customers",status="401",tier="none"\} 1\n/);
    // The two unknown paths above (with and without a query string).
    expect(text).toMatch(/bulkhead_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404",tier="none"\} 2\n/);
    expect(text).not.toContain(created.body.id);
    // Tenant ids appear only on the capped heaviest-tenants gauges.
    for (const line of text.split('\n').filter((line) => tenants.some((tenant) => line.includes(tenant.id)))) {
      expect(line).toMatch(/^bulkhead_tenant_heaviest_/);
    }
  });

  it('reports the database pools, the per-tenant gate and its shedding, and the jobs', async () => {
    const text = await scrape();
    for (const series of [
      /bulkhead_db_pool_connections\{state="total"\} \d+/,
      /bulkhead_db_pool_connections\{state="idle"\} \d+/,
      /bulkhead_db_gate_units\{pool="shared",state="active"\} \d+/,
      /bulkhead_db_gate_units\{pool="silo",state="waiting"\} \d+/,
      /bulkhead_db_gate_tenants_held_back\{pool="shared"\} \d+/,
      /bulkhead_db_gate_shed_total\{reason="excess"\} \d+/,
      /bulkhead_db_gate_shed_total\{reason="timeout"\} \d+/,
      /bulkhead_db_silo_pools_open \d+/,
      /bulkhead_jobs\{state="waiting"\} \d+/,
      /bulkhead_jobs\{state="failed"\} \d+/,
      /bulkhead_fair_queue\{measure="backlogged_tenants"\} \d+/,
      /bulkhead_process_cpu_seconds_total \d/,
    ]) {
      expect(text).toMatch(series);
    }
  });
});

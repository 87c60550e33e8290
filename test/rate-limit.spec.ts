import { randomUUID } from 'node:crypto';
import { TenantRecord } from '@bulkhead/control-plane';
import { buildOpenApiDocument } from '@bulkhead/openapi';
import type { RequestCountsView } from '@bulkhead/rate-limit';
import { runCli } from './support/cli';
import { call, expectProblem } from './support/http';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';

const READS = 5;
/** Small quotas for the free tier; pro keeps the suite's unlimited setting. */
const LIMITS = { RATE_LIMIT_FREE: `read:${READS},write:3,export:1,ingest:2` };

/**
 * Per-tenant rate limits through the real API and the shared Redis: the architecture card's check
 * (max_rpm + 1 requests for one tenant, the last refused, another tenant unaffected), the IETF
 * RateLimit fields, route classes, and the operator's per-minute request counts.
 */
describe('per-tenant rate limits', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi(LIMITS);
  });
  afterAll(async () => {
    await api?.close();
  });

  async function counts(tenant: TenantRecord): Promise<RequestCountsView> {
    const response = await call(api.server, 'get', `/v1/admin/tenants/${tenant.id}/request-counts?minutes=3`, operatorToken(api));
    expect(response.status).toBe(200);
    return response.body as RequestCountsView;
  }

  it('answers 404 for the request counts of a tenant there is not', async () => {
    const response = await call(api.server, 'get', `/v1/admin/tenants/${randomUUID()}/request-counts?minutes=3`, operatorToken(api));
    expectProblem(response, 404, 'tenant_not_found');
  });

  it("refuses a tenant's max_rpm + 1st request while another tenant's requests succeed", async () => {
    const noisy = await createTenant(api, { tier: 'free' });
    const quiet = await createTenant(api, { tier: 'free' });
    const noisyToken = tokenFor(api, noisy);
    const answers = [];
    for (let i = 0; i <= READS; i++) answers.push(await call(api.server, 'get', '/v1/customers', noisyToken));

    expect(answers.slice(0, READS).map((response) => response.status)).toEqual(Array(READS).fill(200));
    const refused = answers[READS];
    expectProblem(refused, 429, 'rate_limited');
    expect(refused.body).toMatchObject({ 'violated-policies': ['read'], retryAfterSeconds: expect.any(Number) });
    // One request per 60 s / 5 = 12 s: the next one is due within that.
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(12);
    expect(refused.body.retryAfterSeconds).toBe(retryAfter);

    const quietToken = tokenFor(api, quiet);
    for (let i = 0; i < READS; i++) expect((await call(api.server, 'get', '/v1/customers', quietToken)).status).toBe(200);
    // Still refused: the other tenant's traffic neither used nor freed the noisy tenant's allowance.
    expectProblem(await call(api.server, 'get', '/v1/customers', noisyToken), 429, 'rate_limited');
  });

  it('sends RateLimit-Policy and RateLimit on every tenant response, 429 included', async () => {
    const tenant = await createTenant(api, { tier: 'free' });
    const token = tokenFor(api, tenant);
    const remaining: number[] = [];
    for (let i = 0; i < READS; i++) {
      const response = await call(api.server, 'get', '/v1/customers', token);
      expect(response.headers['ratelimit-policy']).toBe(`"read";q=${READS};w=60`);
      const field = /^"read";r=(\d+);t=(\d+)$/.exec(response.headers.ratelimit ?? '');
      expect(field).not.toBeNull();
      remaining.push(Number(field?.[1]));
      // The allowance is whole again at most one window after the last request.
      expect(Number(field?.[2])).toBeLessThanOrEqual(60);
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    const refused = await call(api.server, 'get', '/v1/customers', token);
    expect(refused.status).toBe(429);
    expect(refused.headers['ratelimit-policy']).toBe(`"read";q=${READS};w=60`);
    // The effective window of a refusal ends when Retry-After says, never earlier.
    expect(refused.headers.ratelimit).toBe(`"read";r=0;t=${refused.headers['retry-after']}`);
  });

  it('counts each route class on its own: reads used up leave writes and exports alone', async () => {
    const tenant = await createTenant(api, { tier: 'free' });
    const token = tokenFor(api, tenant);
    for (let i = 0; i < READS; i++) await call(api.server, 'get', '/v1/customers', token);
    expect((await call(api.server, 'get', '/v1/customers', token)).status).toBe(429);

    const created = await call(api.server, 'post', '/v1/customers', token, { email: 'class@x.test', name: 'Class' });
    expect(created.status).toBe(201);
    expect(created.headers['ratelimit-policy']).toBe('"write";q=3;w=60');

    // POST /v1/exports is declared an `export` route: one a minute on this tier.
    const first = await call(api.server, 'post', '/v1/exports', token);
    expect(first.status).toBe(202);
    expect(first.headers['ratelimit-policy']).toBe('"export";q=1;w=60');
    const second = await call(api.server, 'post', '/v1/exports', token);
    expectProblem(second, 429, 'rate_limited');
    expect(second.body['violated-policies']).toEqual(['export']);
    // Writes still have their own allowance.
    expect((await call(api.server, 'patch', `/v1/customers/${created.body.id}`, token, { name: 'Renamed' })).status).toBe(200);
  });

  it('leaves operator and public routes unlimited and without RateLimit fields', async () => {
    const operator = operatorToken(api);
    for (let i = 0; i < READS + 2; i++) {
      const response = await call(api.server, 'get', '/v1/admin/tenants', operator);
      expect(response.status).toBe(200);
      expect(response.headers.ratelimit).toBeUndefined();
    }
    const health = await call(api.server, 'get', '/health/live', undefined);
    expect(health.status).toBe(200);
    expect(health.headers['ratelimit-policy']).toBeUndefined();
  });

  it("gives the operator each tenant's request counts per minute and class, admitted and refused", async () => {
    const tenant = await createTenant(api, { tier: 'free' });
    const other = await createTenant(api, { tier: 'free' });
    const token = tokenFor(api, tenant);
    for (let i = 0; i < READS + 2; i++) await call(api.server, 'get', '/v1/customers', token);
    await call(api.server, 'post', '/v1/customers', token, { email: 'count@x.test', name: 'Count' });
    // Refused before the limiter (another tenant named in the header): not a request of this tenant's.
    expect((await call(api.server, 'get', '/v1/customers', token, undefined, { 'X-Tenant-Id': other.id })).status).toBe(403);
    // Not counted either: a request with no valid token.
    expect((await call(api.server, 'get', '/v1/customers', 'not-a-token')).status).toBe(401);

    const view = await counts(tenant);
    expect(view.tenantId).toBe(tenant.id);
    expect(view.admitted).toEqual({ read: READS, write: 1, export: 0, ingest: 0 });
    expect(view.refused).toEqual({ read: 2, write: 0, export: 0, ingest: 0 });
    expect(view.minutes.reduce((sum, minute) => sum + minute.admitted.read + minute.refused.read, 0)).toBe(READS + 2);
    for (const minute of view.minutes) expect(new Date(minute.minute).getUTCSeconds()).toBe(0);
    expect((await counts(other)).admitted).toEqual({ read: 0, write: 0, export: 0, ingest: 0 });
  });

  it('prints the same counts from the CLI (`bulkhead tenant requests`), by slug', async () => {
    const tenant = await createTenant(api, { tier: 'free' });
    const token = tokenFor(api, tenant);
    for (let i = 0; i < READS + 1; i++) await call(api.server, 'get', '/v1/customers', token);
    const json = runCli(['tenant', 'requests', tenant.slug, '--minutes', '3', '--json']);
    expect({ status: json.status, stderr: json.stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(json.stdout)).toMatchObject({ tenantId: tenant.id, admitted: { read: READS }, refused: { read: 1 } });
    const text = runCli(['tenant', 'requests', tenant.id]);
    expect(text.stdout).toMatch(new RegExp(`^total\\s+${READS}/1\\s+0/0\\s+0/0\\s+0/0$`, 'm'));
    expect(runCli(['tenant', 'requests', tenant.id, '--minutes', '0']).status).toBe(2);
  }, 90_000);

  it('documents the 429 and the RateLimit fields on tenant operations only', () => {
    const document = buildOpenApiDocument(api.app);
    const list = document.paths['/v1/customers'].get;
    const responses = list?.responses as Record<string, { headers?: Record<string, unknown>; content?: Record<string, { examples?: Record<string, unknown> }> }>;
    expect(Object.keys(responses['200'].headers ?? {})).toEqual(expect.arrayContaining(['RateLimit-Policy', 'RateLimit']));
    expect(Object.keys(responses['429'].headers ?? {})).toEqual(expect.arrayContaining(['Retry-After', 'RateLimit-Policy', 'RateLimit']));
    expect(Object.keys(responses['429'].content?.['application/problem+json'].examples ?? {})).toEqual(['rate_limited']);
    const admin = document.paths['/v1/admin/tenants'].get?.responses as Record<string, { headers?: Record<string, unknown> }>;
    expect(admin['429']).toBeUndefined();
    expect(admin['200'].headers?.RateLimit).toBeUndefined();
  });

  it('answers the request counts route to operators only', async () => {
    const tenant = await createTenant(api, { tier: 'free' });
    expectProblem(await call(api.server, 'get', `/v1/admin/tenants/${tenant.id}/request-counts`, tokenFor(api, tenant)), 403, 'operator_required');
    expectProblem(await call(api.server, 'get', `/v1/admin/tenants/${tenant.id}/request-counts?minutes=0`, operatorToken(api)), 400, 'validation_failed');
    // Not a date, a day the month lacks (Date would read 1 March), not UTC, a bare number.
    // And ranges that would leave the years 0001-9999 (the answer would print them as -000001 or +010000).
    for (const end of ['2020-13-01T00:00:00Z', '2021-02-29T00:00:00Z', '2020-01-01T01:00:00+01:00', '1577836800000', '9999-12-31T23:59:30Z', '0001-01-01T00:10:00Z']) {
      expectProblem(await call(api.server, 'get', `/v1/admin/tenants/${tenant.id}/request-counts?end=${encodeURIComponent(end)}`, operatorToken(api)), 400, 'validation_failed');
    }
    const past = await call(api.server, 'get', `/v1/admin/tenants/${tenant.id}/request-counts?minutes=10&end=2020-01-01T00:00:00Z`, operatorToken(api));
    expect(past.status).toBe(200);
    expect(past.body).toMatchObject({ from: '2019-12-31T23:51:00.000Z', to: '2020-01-01T00:01:00.000Z', minutes: [] });
    // A leap second is the next minute's first second.
    const leap = await call(api.server, 'get', `/v1/admin/tenants/${tenant.id}/request-counts?minutes=10&end=2016-12-31T23:59:60Z`, operatorToken(api));
    expect(leap.body).toMatchObject({ from: '2016-12-31T23:51:00.000Z', to: '2017-01-01T00:01:00.000Z' });
  });
});

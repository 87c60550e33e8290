import { randomUUID } from 'node:crypto';
import { migrationsOf } from '@bulkhead/database';
import { migrationSourcesFor } from '@bulkhead/tenancy';
import { DOMAINS } from '../apps/domains';
import { call, expectProblem } from './support/http';
import { runCli } from './support/cli';
import { operatorToken, startTestApi, TestApi, uniqueSlug } from './support/test-app';
import { eventually } from './support/test-worker';

describe('operator API and CLI', () => {
  let api: TestApi;
  let operator: string;

  beforeAll(async () => {
    api = await startTestApi();
    operator = operatorToken(api);
  });
  afterAll(() => api.close());

  it('creates, gets, lists, suspends and reactivates a tenant, and suspension bites at once', async () => {
    const slug = uniqueSlug('adm');
    const created = await call(api.server, 'post', '/v1/admin/tenants', operator, { slug, name: 'Admin test', tier: 'pro' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ slug, tier: 'pro', isolation: 'schema', status: 'active', region: 'local', cluster: 'main', dataVersion: migrationsOf(migrationSourcesFor(DOMAINS), 'tenant').length });
    expect(created.body.schemaName).toMatch(/^t_[0-9a-f]{32}$/);
    const id = created.body.id as string;

    expect((await call(api.server, 'get', `/v1/admin/tenants/${id}`, operator)).body.slug).toBe(slug);
    // Filtered by slug so the page holds it however many tenants other suites left behind.
    const listed = await call(api.server, 'get', `/v1/admin/tenants?status=active&tier=pro&isolation=schema&region=local&search=${slug}`, operator);
    expect(listed.body.items.map((t: { id: string }) => t.id)).toEqual([id]);
    const otherTier = await call(api.server, 'get', `/v1/admin/tenants?tier=free&search=${slug}`, operator);
    expect(otherTier.body.items).toEqual([]);
    expectProblem(await call(api.server, 'get', "/v1/admin/tenants?search=a%25'--", operator), 400, 'validation_failed');

    const token = api.issuer.mint({ subject: 'u', tenantId: id });
    expect((await call(api.server, 'get', '/v1/customers', token)).status).toBe(200);

    const suspended = await call(api.server, 'post', `/v1/admin/tenants/${id}/suspend`, operator);
    expect(suspended.body.status).toBe('suspended');
    expectProblem(await call(api.server, 'get', '/v1/customers', token), 403, 'tenant_suspended');
    expectProblem(await call(api.server, 'post', `/v1/admin/tenants/${id}/suspend`, operator), 409, 'tenant_state_conflict');

    const reactivated = await call(api.server, 'post', `/v1/admin/tenants/${id}/reactivate`, operator);
    expect(reactivated.body.status).toBe('active');
    expect((await call(api.server, 'get', '/v1/customers', token)).status).toBe(200);
  });

  it('refuses a duplicate slug, a model or region this deployment does not serve, and unknown ids', async () => {
    const slug = uniqueSlug('dup');
    expect((await call(api.server, 'post', '/v1/admin/tenants', operator, { slug, name: 'One', tier: 'free' })).status).toBe(201);
    expectProblem(await call(api.server, 'post', '/v1/admin/tenants', operator, { slug, name: 'Two', tier: 'free' }), 409, 'tenant_slug_taken');
    // The registry's own create (the fixture path) names which of the two was taken.
    const externalRef = `org_${randomUUID()}`;
    await api.admin.create({ slug: uniqueSlug('ref'), name: 'Ref', tier: 'free', externalRef });
    await expect(api.admin.create({ slug: uniqueSlug('ref'), name: 'Ref 2', tier: 'free', externalRef })).rejects.toMatchObject({ code: 'tenant_external_ref_taken' });
    await expect(api.admin.create({ slug, name: 'Three', tier: 'free' })).rejects.toMatchObject({ code: 'tenant_slug_taken' });
    expectProblem(
      await call(api.server, 'post', '/v1/admin/tenants', operator, { slug: uniqueSlug(), name: 'R', tier: 'pro', region: 'mars-1' }),
      422,
      'region_not_served',
    );
    expectProblem(await call(api.server, 'post', '/v1/admin/tenants', operator, { slug: uniqueSlug(), name: 'T', tier: 'platinum' }), 400, 'validation_failed');
    expectProblem(await call(api.server, 'get', `/v1/admin/tenants/${randomUUID()}`, operator), 404, 'tenant_not_found');
    expectProblem(await call(api.server, 'post', `/v1/admin/tenants/${randomUUID()}/suspend`, operator), 404, 'tenant_not_found');
  });

  it('reads a tenant id written in capitals as that tenant, and answers with the id as stored', async () => {
    const created = await call(api.server, 'post', '/v1/admin/tenants', operator, { slug: uniqueSlug('caps'), name: 'Caps', tier: 'pro' });
    const id = created.body.id as string;
    const shouted = id.toUpperCase();
    for (const path of [`tenants/${shouted}`, `tenants/${shouted}/lifecycle`, `tenants/${shouted}/request-counts`, `tenants/${shouted}/rate-limits`, `tenants/${shouted}/connections`, `jobs/tenants/${shouted}`, `usage/tenants/${shouted}`]) {
      const answer = await call(api.server, 'get', `/v1/admin/${path}`, operator);
      expect([path, answer.status]).toEqual([path, 200]);
      expect([path, answer.text.includes(shouted)]).toEqual([path, false]);
    }
    const paused = await call(api.server, 'post', `/v1/admin/jobs/tenants/${shouted}/pause`, operator);
    expect(paused.text.includes(shouted)).toBe(false);
    expect((await call(api.server, 'get', `/v1/admin/jobs/tenants/${id}`, operator)).body.paused).toBe(true);
  });

  it('runs the same operations from the CLI, and a CLI-minted token works against the API', async () => {
    const slug = uniqueSlug('cli');
    const created = runCli(['tenant', 'create', '--slug', slug, '--name', 'From CLI', '--tier', 'enterprise', '--json']);
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    const tenant = JSON.parse(created.stdout);
    expect(tenant).toMatchObject({ slug, tier: 'enterprise', status: 'active' });

    const token = runCli(['token', '--tenant', slug, '--user', 'cli-user']);
    expect(token.status).toBe(0);
    const response = await call(api.server, 'post', '/v1/customers', token.stdout.trim(), { email: 'cli@x.test', name: 'CLI' });
    expect(response.status).toBe(201);

    const suspend = runCli(['tenant', 'suspend', slug]);
    expect(suspend.status).toBe(0);
    expect(suspend.stdout).toContain('suspended');

    const list = runCli(['tenant', 'list', '--status', 'suspended', '--search', slug, '--json']);
    expect(JSON.parse(list.stdout).map((t: { slug: string }) => t.slug)).toEqual([slug]);

    const again = runCli(['tenant', 'suspend', slug]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/it must be active to become suspended/);

    const bad = runCli(['tenant', 'create', '--slug', 'Bad Slug', '--name', 'x']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/slug must be/);
  }, 60_000);
});

describe('tenant changes reach every instance', () => {
  let a: TestApi;
  let b: TestApi;

  beforeAll(async () => {
    // A cache TTL far longer than the test: only the change feed can make instance B notice.
    a = await startTestApi({ TENANT_CACHE_TTL_MS: '60000' });
    b = await startTestApi({ TENANT_CACHE_TTL_MS: '60000' });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('a suspension made through one instance is enforced by another, and so is the reactivation', async () => {
    const tenant = await a.admin.create({ slug: uniqueSlug('feed'), name: 'Feed', tier: 'free' });
    const token = b.issuer.mint({ subject: 'u', tenantId: tenant.id });
    expect((await call(b.server, 'get', '/v1/customers', token)).status).toBe(200);

    await call(a.server, 'post', `/v1/admin/tenants/${tenant.id}/suspend`, operatorToken(a));
    const denied = await eventually(async () => {
      const response = await call(b.server, 'get', '/v1/customers', token);
      return response.status === 403 ? response : undefined;
    }, 'instance B to see the suspension');
    expectProblem(denied, 403, 'tenant_suspended');

    await call(a.server, 'post', `/v1/admin/tenants/${tenant.id}/reactivate`, operatorToken(a));
    await eventually(async () => ((await call(b.server, 'get', '/v1/customers', token)).status === 200 ? true : undefined), 'the reactivation');
  });
});

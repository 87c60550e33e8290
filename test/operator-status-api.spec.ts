import { AuditChainer, AuditTrail, RefusalRecorder } from '@bulkhead/audit';
import { DataSourceRouter, TenantRecord } from '@bulkhead/control-plane';
import { loadConfig } from '@bulkhead/config';
import { parsePgUrl, withDatabase, withPg } from '@bulkhead/database';
import { TenantRateLimiter } from '@bulkhead/rate-limit';
import { tenantContextOf } from '@bulkhead/tenancy';
import { randomUUID } from 'node:crypto';
import { call, expectProblem } from './support/http';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';

/** The longest chain the verify route checks in this suite: small, so the bound is met with a few writes. */
const MAX_VERIFY = 6;

/**
 * The operator status routes the console's tenant, fleet, jobs and audit pages read: usage against
 * plan quotas, effective rate limits, connection counts, audit verification and raw queue counts.
 */
describe('operator status routes', () => {
  let api: TestApi;
  let operator: string;

  beforeAll(async () => {
    api = await startTestApi({
      METERING_PLANS: 'free:orders.created=3/month|exports.requested=10/day;pro:orders.created=1000/month;enterprise:',
      RATE_LIMIT_FREE: 'read:10,write:600,export:5,ingest:60',
      AUDIT_VERIFY_HTTP_MAX_ENTRIES: String(MAX_VERIFY),
    });
    operator = operatorToken(api);
  }, 60_000);
  afterAll(() => api.close());

  async function customer(tenant: TenantRecord, n: number): Promise<string> {
    const response = await call(api.server, 'post', '/v1/customers', tokenFor(api, tenant), { name: `c${n}`, email: `c${n}-${tenant.slug}@example.com` });
    expect(response.status).toBe(201);
    return response.body.id as string;
  }

  describe('usage against quotas', () => {
    it("reports each meter's use this period against the tenant's plan, blocked once the quota is used up", async () => {
      const tenant = await createTenant(api, { tier: 'free' });
      const token = tokenFor(api, tenant);
      const customerId = await customer(tenant, 0);
      for (let i = 0; i < 3; i++) expect((await call(api.server, 'post', '/v1/orders', token, { customerId, totalCents: 100, currency: 'EUR' })).status).toBe(201);
      expect((await call(api.server, 'post', '/v1/orders', token, { customerId, totalCents: 100, currency: 'EUR' })).status).toBe(429);

      const response = await call(api.server, 'get', `/v1/admin/usage/tenants/${tenant.id}`, operator);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ tenantId: tenant.id, tier: 'free' });
      const meters = response.body.meters as Array<Record<string, unknown>>;
      const now = new Date();
      const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
      expect(meters.find((m) => m.meter === 'orders.created')).toMatchObject({ per: 'month', periodStart: month, used: '3', quota: 3, share: 1, state: 'blocked', origin: 'recorded' });
      expect(meters.find((m) => m.meter === 'exports.requested')).toMatchObject({ per: 'day', used: '0', quota: 10, share: 0, state: 'ok' });
      // Capped meters first.
      expect(meters.slice(0, 2).map((m) => m.quota)).toEqual([expect.any(Number), expect.any(Number)]);
    });

    it('reads a schema and a silo tenant in its own placement', async () => {
      for (const tier of ['pro', 'enterprise'] as const) {
        const tenant = await createTenant(api, { tier });
        const customerId = await customer(tenant, 0);
        expect((await call(api.server, 'post', '/v1/orders', tokenFor(api, tenant), { customerId, totalCents: 1, currency: 'EUR' })).status).toBe(201);
        const response = await call(api.server, 'get', `/v1/admin/usage/tenants/${tenant.id}`, operator);
        expect(response.status).toBe(200);
        const orders = (response.body.meters as Array<Record<string, unknown>>).find((m) => m.meter === 'orders.created');
        expect(orders).toMatchObject(tier === 'pro' ? { used: '1', quota: 1000, share: 0.001, state: 'ok' } : { used: '1', quota: null, share: null, state: 'no_quota' });
      }
    });
  });

  describe('rate limits', () => {
    it("shows the tier's limits per route class, what is left now, and a noisy tenant's lowered limits", async () => {
      const tenant = await createTenant(api, { tier: 'free' });
      const token = tokenFor(api, tenant);
      for (let i = 0; i < 3; i++) expect((await call(api.server, 'get', '/v1/customers', token)).status).toBe(200);

      const response = await call(api.server, 'get', `/v1/admin/tenants/${tenant.id}/rate-limits`, operator);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ tenantId: tenant.id, tier: 'free', windowSeconds: 60, throttleFactor: null, inMemory: false });
      const read = (response.body.classes as Array<Record<string, number | string | null>>).find((c) => c.routeClass === 'read');
      expect(read).toMatchObject({ tierLimit: 10, limit: 10, outageLimit: 10 });
      // Three of ten taken; one comes back every 6 s.
      expect(read?.remaining).toBeGreaterThanOrEqual(7);
      expect(read?.remaining).toBeLessThan(10);
      expect(read?.resetSeconds).toBeGreaterThan(0);
      expect(typeof read?.admittedThisMinute).toBe('number');
      expect((response.body.classes as Array<{ routeClass: string }>).map((c) => c.routeClass)).toEqual(['read', 'write', 'export', 'ingest']);

      const limiter = api.app.get(TenantRateLimiter);
      limiter.throttle([tenant.id], 0.5);
      try {
        const throttled = await call(api.server, 'get', `/v1/admin/tenants/${tenant.id}/rate-limits`, operator);
        expect(throttled.body.throttleFactor).toBe(0.5);
        expect((throttled.body.classes as Array<Record<string, unknown>>).find((c) => c.routeClass === 'read')).toMatchObject({ tierLimit: 10, limit: 5 });
      } finally {
        limiter.throttle([], 0.5);
      }
    });
  });

  describe('connections', () => {
    it("shows a tenant's units of work at its pool's gate, counted in this instance", async () => {
      const tenant = await createTenant(api, { tier: 'free' });
      await customer(tenant, 0);
      const path = `/v1/admin/tenants/${tenant.id}/connections`;
      const idle = await call(api.server, 'get', path, operator);
      expect(idle.status).toBe(200);
      expect(idle.body).toMatchObject({
        tenantId: tenant.id,
        instance: { scope: 'instance', id: expect.stringContaining(`:${process.pid}`) },
        gate: { pool: 'shared:main', inUse: 0, waiting: 0, capacity: api.config.DATABASE_POOL_MAX, capWhileOthersWait: api.config.TENANT_MAX_CONNECTIONS },
        pool: { max: api.config.DATABASE_POOL_MAX },
      });
      expect(idle.body.pool.total).toBeGreaterThanOrEqual(1);

      // While a unit of work of the tenant holds a connection, the gate counts it.
      const placed = { tenantId: tenant.id, tier: tenant.tier, isolation: tenant.isolation, cluster: tenant.cluster, schemaName: tenant.schemaName, databaseName: tenant.databaseName };
      const held = await api.app.get(DataSourceRouter).use(placed, () => call(api.server, 'get', path, operator), { critical: false });
      expect(held.body.gate).toMatchObject({ inUse: 1, waiting: 0 });
      expect(held.body.gate.poolInUse).toBeGreaterThanOrEqual(1);
    });

    it("names a silo tenant's own pool", async () => {
      const tenant = await createTenant(api, { tier: 'enterprise' });
      await customer(tenant, 0);
      const response = await call(api.server, 'get', `/v1/admin/tenants/${tenant.id}/connections`, operator);
      expect(response.body.gate).toMatchObject({ pool: `silo:${tenant.id}`, capacity: api.config.SILO_POOL_MAX });
      // Open while SILO_IDLE_MS has not passed since its last use, or closed already: both are this instance's truth.
      if (response.body.pool !== null) expect(response.body.pool).toMatchObject({ max: api.config.SILO_POOL_MAX });
    });

    it("lists this instance's pools per cluster, its silo pools and the gate's totals", async () => {
      const response = await call(api.server, 'get', '/v1/admin/connections', operator);
      expect(response.status).toBe(200);
      expect(response.body.instance.scope).toBe('instance');
      expect(response.body.shared[0]).toMatchObject({ cluster: 'main', pool: { max: api.config.DATABASE_POOL_MAX } });
      expect(response.body.silos).toMatchObject({ poolMax: api.config.SILO_POOL_MAX, maxConnections: api.config.DATABASE_CONNECTION_BUDGET - api.config.DATABASE_POOL_MAX });
      expect(response.body.gate).toMatchObject({ active: { shared: expect.any(Number), silo: expect.any(Number) }, shed: { excess: expect.any(Number), timeout: expect.any(Number) } });
    });
  });

  describe('audit verify', () => {
    const mainDb = parsePgUrl(loadConfig().DATABASE_URL).database;

    it("verifies one tenant's chain, records the verdict, and names the first bad seq of a tampered one", async () => {
      const tenant = await createTenant(api, { tier: 'free' });
      for (let i = 0; i < 3; i++) await customer(tenant, i);
      await api.app.get(AuditChainer).chainNow(tenantContextOf(tenant, 'operator-status-test'));

      const ok = await call(api.server, 'post', `/v1/admin/tenants/${tenant.id}/audit/verify`, operator);
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ ok: true, invalidCheckpoints: 0, chains: [{ tenantId: tenant.id, placement: 'pool', entries: 3, lastSeq: '3', ok: true, firstBadSeq: null }] });
      expect(['read', 'absent', 'not_configured']).toContain(ok.body.checkpoints);

      // Recorded in the platform trail with its verdict.
      const trail = await call(api.server, 'get', '/v1/admin/audit?action=audit.verify&limit=100', operator);
      expect(trail.status).toBe(200);
      expect((trail.body.items as Array<{ outcome: string; action: string }>).filter((e) => e.action === 'audit.verify').map((e) => e.outcome)).toContain('intact');

      // A superuser with the triggers off changes the second entry: the route names seq 2.
      await withPg(withDatabase(api.config.DATABASE_ADMIN_URL, mainDb), 'operator-status-test', async (client) => {
        await client.query("SET session_replication_role = 'replica'");
        await client.query(`UPDATE public.audit_entries SET entry = replace(entry, 'committed', 'kommitted'), outcome = 'kommitted' WHERE tenant_id = $1 AND id = (SELECT id FROM public.audit_links WHERE tenant_id = $1 AND seq = 2)`, [tenant.id]);
      });
      const broken = await call(api.server, 'post', `/v1/admin/tenants/${tenant.id}/audit/verify`, operator);
      expect(broken.status).toBe(200);
      expect(broken.body).toMatchObject({ ok: false, chains: [{ ok: false, firstBadSeq: '2' }] });
    });

    it('verifies a schema tenant where it lives, and bounds the platform chain like any other', async () => {
      const tenant = await createTenant(api, { tier: 'pro' });
      await customer(tenant, 0);
      const response = await call(api.server, 'post', `/v1/admin/tenants/${tenant.id}/audit/verify`, operator);
      expect(response.body).toMatchObject({ ok: true, chains: [{ placement: `schema ${tenant.schemaName}`, ok: true }] });

      // Every operator call of this suite is in the platform chain, linked now: longer than the bound, so refused with the way out
      // (the console journey verifies the platform chain under the default bound).
      await api.app.get(RefusalRecorder).flush();
      await api.app.get(AuditChainer).chainNow(api.app.get(AuditTrail).platformContext());
      const platform = await call(api.server, 'post', '/v1/admin/audit/verify', operator);
      expectProblem(platform, 422, 'audit_chain_too_long');
      expect(platform.body.maxEntries).toBe(MAX_VERIFY);
    });

    it('refuses a chain longer than AUDIT_VERIFY_HTTP_MAX_ENTRIES before reading it', async () => {
      const tenant = await createTenant(api, { tier: 'free' });
      for (let i = 0; i <= MAX_VERIFY; i++) await customer(tenant, i);
      await api.app.get(AuditChainer).chainNow(tenantContextOf(tenant, 'operator-status-test'));
      const response = await call(api.server, 'post', `/v1/admin/tenants/${tenant.id}/audit/verify`, operator);
      expectProblem(response, 422, 'audit_chain_too_long');
      expect(response.body).toMatchObject({ entries: MAX_VERIFY + 1, maxEntries: MAX_VERIFY });
    });
  });

  it('shows each BullMQ queue by raw state beside the fair-queue totals', async () => {
    const response = await call(api.server, 'get', '/v1/admin/jobs', operator);
    expect(response.status).toBe(200);
    expect(response.body.queues).toEqual([
      { name: expect.any(String), states: expect.objectContaining({ waiting: expect.any(Number), active: expect.any(Number), delayed: expect.any(Number), completed: expect.any(Number), failed: expect.any(Number) }) },
    ]);
    expect(response.body.totals).toMatchObject({ inFlight: expect.any(Number) });
  });

  describe('access and bad input', () => {
    const tenantRoutes: Array<['get' | 'post', (id: string) => string]> = [
      ['get', (id) => `/v1/admin/usage/tenants/${id}`],
      ['get', (id) => `/v1/admin/tenants/${id}/rate-limits`],
      ['get', (id) => `/v1/admin/tenants/${id}/connections`],
      ['post', (id) => `/v1/admin/tenants/${id}/audit/verify`],
    ];
    const fleetRoutes: Array<['get' | 'post', string]> = [
      ['get', '/v1/admin/connections'],
      ['post', '/v1/admin/audit/verify'],
    ];

    it('are for operators only: a tenant token gets 403, even for its own tenant', async () => {
      const tenant = await createTenant(api, { tier: 'free' });
      const token = tokenFor(api, tenant);
      for (const [method, path] of tenantRoutes) expectProblem(await call(api.server, method, path(tenant.id), token), 403);
      for (const [method, path] of fleetRoutes) expectProblem(await call(api.server, method, path, token), 403);
      for (const [method, path] of tenantRoutes) expectProblem(await call(api.server, method, path(tenant.id), undefined), 401);
    });

    it('an unknown tenant is 404 tenant_not_found, a malformed id 400', async () => {
      const unknown = randomUUID();
      for (const [method, path] of tenantRoutes) {
        expectProblem(await call(api.server, method, path(unknown), operator), 404, 'tenant_not_found');
        for (const bad of ['not-a-uuid', '1', "x'%20OR%201=1"]) expectProblem(await call(api.server, method, path(bad), operator), 400);
      }
    });

    it('an erased tenant has no usage to read and no chain to verify', async () => {
      const tenant = await createTenant(api, { tier: 'free' });
      await withPg(api.config.DATABASE_OWNER_URL, 'operator-status-test', (owner) => owner.query("UPDATE tenants SET status = 'deleted' WHERE id = $1", [tenant.id]));
      // The registry cache may hold the active record for TENANT_CACHE_TTL_MS.
      await new Promise((resolve) => setTimeout(resolve, api.config.TENANT_CACHE_TTL_MS + 100));
      expectProblem(await call(api.server, 'get', `/v1/admin/usage/tenants/${tenant.id}`, operator), 409, 'tenant_usage_unavailable');
      expectProblem(await call(api.server, 'post', `/v1/admin/tenants/${tenant.id}/audit/verify`, operator), 410, 'tenant_erased');
    });
  });
});

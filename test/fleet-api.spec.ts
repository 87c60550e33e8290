import { migrationsOf, withPg } from '@bulkhead/database';
import { WarmPool } from '@bulkhead/lifecycle';
import { migrationSourcesFor } from '@bulkhead/tenancy';
import { DOMAINS } from '../apps/domains';
import { call, expectProblem } from './support/http';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';

interface FleetBody {
  dataVersion: number;
  placements: Array<{ cluster: string; model: string; current: number; behind: number }>;
  behind: Array<{ id: string; slug: string; cluster: string; model: string; status: string; dataVersion: number }>;
  warmPool: Array<{ cluster: string; model: string; status: string; dataVersion: number; count: number }>;
}

/** `GET /v1/admin/fleet`: placements by data version as the registry records them, and the warm pool. */
describe('operator fleet view', () => {
  let api: TestApi;
  let operator: string;
  const CURRENT = migrationsOf(migrationSourcesFor(DOMAINS), 'tenant').length;

  beforeAll(async () => {
    // One warm schema per cluster, so the pool has something to show.
    api = await startTestApi({ LIFECYCLE_WARM_SCHEMAS: '1' });
    operator = operatorToken(api);
  });
  afterAll(() => api.close());

  it('counts schema and silo placements at and behind the current data version, lists those behind, and shows the warm pool', async () => {
    const upToDate = await createTenant(api, { tier: 'pro' });
    const silo = await createTenant(api, { tier: 'enterprise' });
    const behind = await createTenant(api, { tier: 'pro' });
    const pooled = await createTenant(api, { tier: 'free' });
    expect([upToDate.isolation, silo.isolation, behind.isolation, pooled.isolation]).toEqual(['schema', 'silo', 'schema', 'pool']);
    // As if the schema had been made by the previous release and `bulkhead migrate` had not reached it yet.
    await withPg(api.config.DATABASE_OWNER_URL, 'fleet-api-test', (owner) => owner.query('UPDATE tenants SET data_version = $2 WHERE id = $1', [behind.id, CURRENT - 1]));
    await api.app.get(WarmPool).refill();

    const response = await call(api.server, 'get', '/v1/admin/fleet', operator);
    expect(response.status).toBe(200);
    const body = response.body as FleetBody;
    expect(body.dataVersion).toBe(CURRENT);
    const schemas = body.placements.find((group) => group.cluster === upToDate.cluster && group.model === 'schema');
    const silos = body.placements.find((group) => group.cluster === silo.cluster && group.model === 'silo');
    expect(schemas?.current).toBeGreaterThanOrEqual(1);
    expect(schemas?.behind).toBeGreaterThanOrEqual(1);
    expect(silos?.current).toBeGreaterThanOrEqual(1);
    // The pool shares the platform's tables: it has no data version of its own.
    expect(body.placements.map((group) => group.model)).not.toContain('pool');

    expect(body.behind.length).toBeLessThanOrEqual(50);
    expect(body.behind.every((tenant) => tenant.dataVersion < CURRENT)).toBe(true);
    expect(body.behind).toContainEqual({ id: behind.id, slug: behind.slug, cluster: behind.cluster, model: 'schema', status: 'active', dataVersion: CURRENT - 1 });
    expect(body.behind.map((tenant) => tenant.id)).not.toContain(upToDate.id);

    const warmSchemas = body.warmPool.filter((entry) => entry.cluster === upToDate.cluster && entry.model === 'schema' && entry.status === 'ready');
    expect(warmSchemas.reduce((sum, entry) => sum + entry.count, 0)).toBeGreaterThanOrEqual(1);
    expect(warmSchemas.every((entry) => entry.dataVersion === CURRENT)).toBe(true);
  }, 120_000);

  it('is for operators only', async () => {
    const tenant = await createTenant(api, { tier: 'free' });
    expectProblem(await call(api.server, 'get', '/v1/admin/fleet', tokenFor(api, tenant)), 403);
    expectProblem(await call(api.server, 'get', '/v1/admin/fleet', undefined), 401);
  });
});

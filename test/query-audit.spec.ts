import { QueryAuditor, runQueryAudit } from '@bulkhead/audit';
import { withPg } from '@bulkhead/database';
import { call } from './support/http';
import { startFaultPostgres, FaultPostgres } from './support/fault-services';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';

/**
 * Query audits over pg_stat_statements. The shared server may not preload it (and is never
 * restarted by a test), so this suite runs its own cluster with the module preloaded; on the shared
 * server the audit must report itself unavailable rather than fail.
 */
describe('query audit', () => {
  let pg: FaultPostgres;
  let api: TestApi;

  beforeAll(async () => {
    pg = await startFaultPostgres({ settings: ['shared_preload_libraries=pg_stat_statements'] });
    api = await startTestApi(pg.env);
  });
  afterAll(async () => {
    await api?.close();
    await pg?.destroy();
  });

  it('flags statements on tenant tables without a tenant predicate and statements by RLS-bypassing roles, and records the verdict', async () => {
    const tenant = await createTenant(api);
    const auditor = api.app.get(QueryAuditor);
    // The first scheduled run installs the extension and opens a fresh window.
    await auditor.runScheduled();

    // The application's own statements carry the predicate: nothing flagged.
    expect((await call(api.server, 'post', '/v1/customers', tokenFor(api, tenant), { name: 'a', email: 'a@example.com' })).status).toBe(201);
    expect((await call(api.server, 'get', '/v1/customers', tokenFor(api, tenant))).status).toBe(200);
    expect((await auditor.audit()).findings).toEqual([]);

    // The runtime role forgetting the predicate (RLS still scopes it), and a superuser reading a tenant table.
    await withPg(pg.env.DATABASE_URL, 'query-audit-test', async (client) => {
      await client.query('BEGIN');
      await client.query("SELECT set_config('app.tenant_id', $1, true)", [tenant.id]);
      await client.query('SELECT count(*) FROM customers WHERE name = $1', ['a']);
      await client.query('COMMIT');
    });
    await withPg(pg.adminUrl('bulkhead_fault'), 'query-audit-test', (client) => client.query('SELECT email FROM orders JOIN customers ON true LIMIT 1'));

    const report = await auditor.audit();
    expect(report.available).toBe(true);
    expect(report.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: 'missing_tenant_predicate', role: 'bulkhead_app', tables: ['customers'] }),
        expect.objectContaining({ rule: 'rls_bypassing_role', role: 'postgres', tables: expect.arrayContaining(['customers', 'orders']) }),
      ]),
    );

    const verdict = await auditor.runScheduled();
    expect(verdict.findings.length).toBeGreaterThanOrEqual(2);
    const platform = await call(api.server, 'get', '/v1/admin/audit?action=query_audit.run', operatorToken(api));
    expect(platform.body.items.map((e: any) => e.outcome)).toEqual(['clean', 'flagged']);
    // A new window: what was flagged is gone (the reset itself is not a tenant statement).
    expect((await auditor.audit()).findings.filter((f) => f.rule === 'missing_tenant_predicate')).toEqual([]);
  });

  it('reports itself unavailable, without failing, where pg_stat_statements is not preloaded', async () => {
    // The shared test server: whether it preloads the module is up to .ci/run; the audit copes either way.
    const report = await withPg(process.env.DATABASE_ADMIN_URL as string, 'query-audit-test', (client) => runQueryAudit(client));
    if (!report.available) expect(report.reason).toMatch(/pg_stat_statements/);
    else expect(Array.isArray(report.findings)).toBe(true);
  });
});

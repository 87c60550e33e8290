import { loadConfig } from '@bulkhead/config';
import { parsePgUrl, withDatabase, withPg } from '@bulkhead/database';
import { runDoctor } from '@bulkhead/tenancy';
import { Client } from 'pg';
import { runCli } from './support/cli';

/** `doctor` passes on the migrated database and names each deliberately broken table. */
describe('doctor', () => {
  const config = loadConfig();
  const runtimeRole = parsePgUrl(config.DATABASE_URL).user;
  const adminUrl = withDatabase(config.DATABASE_ADMIN_URL, parsePgUrl(config.DATABASE_URL).database);

  /** Runs `work` as the owner with the schema `name` created for it, then drops it and any `also` (names it may have been given). */
  async function withScratchSchema(name: string, also: string[], work: (owner: Client) => Promise<void>): Promise<void> {
    await withPg(config.DATABASE_OWNER_URL, 'doctor-test', async (owner) => {
      await owner.query(`CREATE SCHEMA ${name}`);
      try {
        await work(owner);
      } finally {
        for (const schema of [name, ...also]) await owner.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }
    });
  }

  it('passes on the migrated database', async () => {
    const report = await withPg(adminUrl, 'doctor-test', (client) => runDoctor(client, runtimeRole));
    expect(report.violations).toEqual([]);
    const pool = report.tables.map((t) => t.table).filter((name) => name.startsWith('public.'));
    expect(pool.sort()).toEqual(['public.audit_chain_heads', 'public.audit_entries', 'public.audit_impersonation_grants', 'public.audit_keys', 'public.audit_links', 'public.audit_pending', 'public.customer_order_totals', 'public.customers', 'public.idempotency_keys', 'public.order_exports', 'public.orders', 'public.projects', 'public.tasks', 'public.usage_billing_sends', 'public.usage_events', 'public.usage_quota_alerts', 'public.usage_reconciliations', 'public.usage_rollups', 'public.usage_unique_values']);
    // Tenant schemas made by other suites are checked too, and hold to the same rules.
    expect(report.tables.every((t) => t.table.startsWith('public.') || /^t_[0-9a-f]{32}\./.test(t.table))).toBe(true);
    for (const table of report.tables) {
      expect(table).toMatchObject({ rlsEnabled: true, rlsForced: true, commands: ['DELETE', 'INSERT', 'SELECT', 'UPDATE'] });
      expect(table.tenantIndex).not.toBeNull();
    }
  });

  it('judges a table renamed while it runs (a warm schema adopted by its tenant) by what it is, under its new name', async () => {
    await withScratchSchema('doctor_warm', ['doctor_adopted'], async (owner) => {
      await owner.query('CREATE TABLE doctor_warm.items (tenant_id uuid NOT NULL, id int, PRIMARY KEY (tenant_id, id))');
      await owner.query("SELECT bulkhead_protect_tenant_table('doctor_warm.items')");
      const report = await withPg(adminUrl, 'doctor-test', async (client) => {
        // The schema is renamed, by another session, as the doctor asks for its first table's
        // policies: every table of it is checked after the rename.
        const query = client.query.bind(client) as (text: string, values?: unknown[]) => Promise<unknown>;
        let renamed = false;
        (client as unknown as { query: typeof query }).query = async (text: string, values?: unknown[]) => {
          if (!renamed && text.includes('FROM pg_policy')) {
            renamed = true;
            await owner.query('ALTER SCHEMA doctor_warm RENAME TO doctor_adopted');
          }
          return query(text, values);
        };
        return runDoctor(client, runtimeRole);
      });
      expect(report.violations.filter((v) => v.startsWith('doctor_'))).toEqual([]);
      expect(report.tables.find((t) => t.table.startsWith('doctor_'))).toMatchObject({
        table: 'doctor_adopted.items',
        rlsEnabled: true,
        rlsForced: true,
        commands: ['DELETE', 'INSERT', 'SELECT', 'UPDATE'],
      });
    });
  });

  it('fails, naming each problem, on tables deliberately left unprotected', async () => {
    await withScratchSchema('doctor_probe', [], async (owner) => {
      await owner.query('CREATE TABLE doctor_probe.leaky (tenant_id uuid NOT NULL, id int)');
      await owner.query('CREATE TABLE doctor_probe.half (tenant_id uuid NOT NULL, id int, PRIMARY KEY (tenant_id, id))');
      await owner.query('ALTER TABLE doctor_probe.half ENABLE ROW LEVEL SECURITY');
      await owner.query(
        "CREATE POLICY half_select ON doctor_probe.half FOR SELECT USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))",
      );
      await owner.query('CREATE POLICY half_open ON doctor_probe.half FOR UPDATE USING (true)');

      const report = await withPg(adminUrl, 'doctor-test', (client) => runDoctor(client, runtimeRole));
      expect(report.violations).toEqual(
        expect.arrayContaining([
          'doctor_probe.leaky: row-level security is not enabled',
          'doctor_probe.leaky: row-level security is not forced (the owner bypasses it)',
          'doctor_probe.leaky: no tenant policy for SELECT',
          'doctor_probe.leaky: no index leads with tenant_id',
          'doctor_probe.half: row-level security is not forced (the owner bypasses it)',
          'doctor_probe.half: a permissive UPDATE policy does not compare tenant_id with app.tenant_id',
          'doctor_probe.half: no tenant policy for INSERT',
        ]),
      );
      expect(report.violations.some((v) => v.startsWith('public.'))).toBe(false);

      const cli = runCli(['doctor']);
      expect(cli.status).toBe(1);
      expect(cli.stdout).toContain('doctor_probe.leaky: row-level security is not enabled');
    });
    const clean = runCli(['doctor']);
    expect(clean.status).toBe(0);
    expect(clean.stdout).toContain('No violations.');
    // Two runs of the CLI, each checking every tenant schema and silo the other suites left: CI on
    // a loaded machine took 86 s.
  }, 240_000);
});

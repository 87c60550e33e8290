import { loadConfig } from '@bulkhead/config';
import { parsePgUrl, withPg } from '@bulkhead/database';
import { runDoctor } from '@bulkhead/tenancy';
import { Command } from 'commander';
import { print, printJson } from '../cli-context';

/** The admin URL, pointed at the application's database: counting rows per tenant needs to see them all. */
export function doctorUrl(adminUrl: string, runtimeUrl: string): string {
  const url = new URL(adminUrl);
  url.pathname = '/' + parsePgUrl(runtimeUrl).database;
  return url.toString();
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('Check the live database: RLS enabled and forced with all four policies and a tenant_id-led index on every tenant table, and a runtime role that can bypass nothing. Exits 1 on any violation.')
    .option('--json', 'print the whole report as JSON')
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig();
      const runtimeRole = parsePgUrl(config.DATABASE_URL).user;
      const mainUrl = doctorUrl(config.DATABASE_ADMIN_URL, config.DATABASE_URL);
      const report = await withPg(mainUrl, 'bulkhead-doctor', (client) => runDoctor(client, runtimeRole));
      // Every silo database is checked the same way; its findings are prefixed with the tenant.
      const silos = await withPg(mainUrl, 'bulkhead-doctor', (client) =>
        client.query<{ slug: string; database_name: string }>(
          "SELECT slug, database_name FROM tenants WHERE isolation = 'silo' AND status IN ('active', 'suspended') ORDER BY id",
        ),
      );
      for (const silo of silos.rows) {
        const url = new URL(config.DATABASE_ADMIN_URL);
        url.pathname = '/' + silo.database_name;
        try {
          const siloReport = await withPg(url.toString(), 'bulkhead-doctor', (client) => runDoctor(client, runtimeRole));
          const label = `${silo.slug} (${silo.database_name})`;
          report.violations.push(...siloReport.violations.map((v) => `${label}: ${v}`));
          report.tables.push(...siloReport.tables.map((t) => ({ ...t, table: `${silo.database_name}.${t.table}` })));
          report.rowsPerTenant.push(...siloReport.rowsPerTenant.map((r) => ({ ...r, table: `${silo.database_name}.${r.table}` })));
        } catch (error) {
          report.violations.push(`${silo.slug} (${silo.database_name}): cannot be checked: ${(error as Error).message}`);
        }
      }
      if (options.json) printJson(report);
      else {
        print('Tenant tables:');
        for (const t of report.tables) {
          print(`  ${t.table}: rls ${t.rlsEnabled ? 'on' : 'OFF'}, forced ${t.rlsForced ? 'yes' : 'NO'}, policies ${t.commands.join('/') || 'none'}, index ${t.tenantIndex ?? 'NONE'}`);
        }
        print('Rows per tenant (top 20 per table):');
        for (const r of report.rowsPerTenant) print(`  ${r.table}  ${r.tenantId}  ${r.rows}`);
        print('Connections:');
        for (const c of report.connections) print(`  ${c.role || '-'}  ${c.application || '-'}  ${c.state || '-'}  ${c.count}`);
        print(report.violations.length ? 'Violations:' : 'No violations.');
        for (const v of report.violations) print(`  - ${v}`);
      }
      if (report.violations.length) process.exitCode = 1;
    });
}

import { FleetDoctor } from '@bulkhead/tenancy';
import { Command } from 'commander';
import { print, printJson, withCliContext } from '../cli-context';

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'Check the live database and every silo: RLS enabled and forced with all four policies and a tenant_id-led index on every tenant table, ' +
        'and a runtime role that can bypass nothing. Exits 1 on any violation.',
    )
    .option('--json', 'print the whole report as JSON')
    .action(async (options: { json?: boolean }) => {
      const report = await withCliContext((context) => context.get(FleetDoctor).run());
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

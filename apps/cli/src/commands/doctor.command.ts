import { QueryAuditor } from '@bulkhead/audit';
import { FleetDoctor } from '@bulkhead/tenancy';
import { Command } from 'commander';
import { print, printJson, withCliContext } from '../cli-context';

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'Check the live database and every silo: RLS enabled and forced with all four policies and a tenant_id-led index on every tenant table, ' +
        'a runtime role that can bypass nothing; and reports the query audit (pg_stat_statements): statements on tenant tables without a tenant predicate ' +
        'and statements by roles that bypass RLS. Exits 1 on any violation.',
    )
    .option('--json', 'print the whole report as JSON')
    .action(async (options: { json?: boolean }) => {
      const { report, queries } = await withCliContext(async (context) => ({
        report: await context.get(FleetDoctor).run(),
        queries: await context.get(QueryAuditor).audit(),
      }));
      // Reported, not violations: the statistics hold whatever ran since the last scheduled audit
      // (tests and one-off scripts included); the scheduled audit records each window's verdict.
      if (options.json) printJson({ ...report, queryAudit: queries });
      else {
        print('Tenant tables:');
        for (const t of report.tables) {
          print(`  ${t.table}: rls ${t.rlsEnabled ? 'on' : 'OFF'}, forced ${t.rlsForced ? 'yes' : 'NO'}, policies ${t.commands.join('/') || 'none'}, index ${t.tenantIndex ?? 'NONE'}`);
        }
        print('Rows per tenant (top 20 per table):');
        for (const r of report.rowsPerTenant) print(`  ${r.table}  ${r.tenantId}  ${r.rows}`);
        print('Connections:');
        for (const c of report.connections) print(`  ${c.role || '-'}  ${c.application || '-'}  ${c.state || '-'}  ${c.count}`);
        print('Query audit (pg_stat_statements, since the last scheduled audit):');
        if (!queries.available) print(`  not run: ${queries.reason}`);
        else {
          print(`  ${queries.statements} statements, ${queries.findings.length} flagged`);
          for (const f of queries.findings) print(`  - ${f.rule} (${f.role}, ${f.calls} calls, ${f.tables.join(', ')}): ${f.query.replace(/\s+/g, ' ').slice(0, 160)}`);
        }
        print(report.violations.length ? 'Violations:' : 'No violations.');
        for (const v of report.violations) print(`  - ${v}`);
      }
      if (report.violations.length) process.exitCode = 1;
    });
}

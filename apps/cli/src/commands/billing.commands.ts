import { TenantAdmin } from '@bulkhead/control-plane';
import { BillingExportService, billingPeriod, BillingPeriodInvalidProblem, StripeMeterEventSender, toCsv, toJsonLines, UsageReconciler } from '@bulkhead/metering';
import { runWithTenant, tenantContextOf } from '@bulkhead/tenancy';
import { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { print, printJson, withCliContext } from '../cli-context';

function checkedPeriod(period: string): string {
  if (!billingPeriod(period)) throw new BillingPeriodInvalidProblem();
  return period;
}

function warn(line: string): void {
  process.stderr.write(line + '\n');
}

export function registerBillingCommands(program: Command): void {
  const billing = program.command('billing').description('Billing export, sending and reconciliation of usage');

  billing
    .command('export')
    .description(
      "Print a billing period's meter events of every tenant (or one): Stripe v2 meter events as JSON lines, our event id as identifier, or CSV. " +
        'Each tenant is reconciled first; a tenant with unacknowledged drift is blocked (named on stderr, exit 1). Idempotent; --send posts the events to Stripe, never one twice.',
    )
    .requiredOption('--period <YYYY-MM>', 'the calendar month (UTC)')
    .option('--format <format>', 'jsonl or csv', 'jsonl')
    .option('--tenant <id or slug>', 'only this tenant')
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--send', 'also send the events not yet sent to BILLING_STRIPE_BASE_URL')
    .action(async (options: { period: string; format: string; tenant?: string; out?: string; send?: boolean }) => {
      const period = checkedPeriod(options.period);
      if (options.format !== 'jsonl' && options.format !== 'csv') throw new Error('--format must be jsonl or csv');
      await withCliContext(async (context) => {
        const tenantId = options.tenant ? (await context.get(TenantAdmin).find(options.tenant)).id : undefined;
        const { exports } = await context.get(BillingExportService).exportPeriod(period, { tenantId });
        const content = options.format === 'csv' ? toCsv(exports) : toJsonLines(exports);
        if (options.out) writeFileSync(options.out, content);
        else process.stdout.write(content);
        for (const blocked of exports.filter((e) => e.status === 'blocked')) warn(`blocked: ${blocked.slug} (${blocked.tenantId}) has unacknowledged drift for ${period}`);
        for (const down of exports.filter((e) => e.status === 'unavailable')) warn(`unavailable: ${down.slug} (${down.tenantId}) could not be read; run again`);
        if (exports.some((e) => e.status !== 'exported')) process.exitCode = 1;
        if (options.send) {
          for (const result of (await context.get(StripeMeterEventSender).send(period, { tenantId })).tenants) {
            warn(`send: ${result.slug} ${result.status} ${result.sent}${result.error ? ` (${result.error})` : ''}`);
            if (result.status !== 'sent') process.exitCode = 1;
          }
        }
      });
    });

  billing
    .command('reconcile')
    .description("Compare every tenant's meters for a period with the event log and the source of truth; exit 1 if any drifts")
    .requiredOption('--period <YYYY-MM>', 'the calendar month (UTC)')
    .option('--json', 'print the whole report as JSON')
    .action(async (options: { period: string; json?: boolean }) => {
      const period = checkedPeriod(options.period);
      const { tenants: results } = await withCliContext((context) => context.get(UsageReconciler).reconcileAll(period));
      if (options.json) printJson(results);
      else for (const r of results) print(`${r.slug} ${r.status} ${r.meters.map((m) => `${m.meter}=${m.rollupTotal}/${m.logTotal}/${m.sourceTotal ?? '-'}:${m.status}`).join(' ')}`);
      if (results.some((r) => r.status !== 'ok')) process.exitCode = 1;
    });

  billing
    .command('acknowledge')
    .description("Acknowledge a tenant's drift for a period, unblocking its export until the numbers change")
    .requiredOption('--tenant <id or slug>', 'the tenant')
    .requiredOption('--period <YYYY-MM>', 'the calendar month (UTC)')
    .option('--note <text>', 'why the drift is acceptable')
    .action(async (options: { tenant: string; period: string; note?: string }) => {
      const period = checkedPeriod(options.period);
      const done = await withCliContext(async (context) => {
        const tenant = await context.get(TenantAdmin).find(options.tenant);
        return runWithTenant(tenantContextOf(tenant, 'operator:cli'), () => context.get(UsageReconciler).acknowledgeCurrent(period, 'operator:cli', options.note));
      });
      print(done > 0 ? `acknowledged ${done} drifting meter(s) of ${options.tenant} for ${period}` : `nothing to acknowledge for ${options.tenant} ${period}`);
    });
}

import { TenantAdmin } from '@bulkhead/control-plane';
import { LifecycleService, SagaView } from '@bulkhead/lifecycle';
import { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { print, printJson, withCliContext } from '../cli-context';

function show(sagas: SagaView[]): void {
  for (const saga of sagas) {
    print(`${saga.kind} ${saga.id}  ${saga.status}${saga.reason ? `  (${saga.reason})` : ''}  started by ${saga.startedBy} at ${saga.createdAt}`);
    for (const step of saga.steps) {
      const note = step.lastError ? `  last error: ${step.lastError}` : step.details.due ? `  until ${String(step.details.due)}` : '';
      print(`  ${step.step.padEnd(10)} ${step.status.padEnd(11)} runs ${step.attempts}  failures ${step.failures}${note}`);
    }
  }
}

/** `tenant status | offboard | restore | certificate | archive`: the lifecycle sagas (same rules as /v1/admin/tenants/:id/lifecycle). */
export function registerLifecycleCommands(tenant: Command): void {
  tenant
    .command('status <tenant>')
    .description("a tenant's onboarding and offboarding sagas, step by step; --retry runs a failed one again, --abort stops a running one (compensations run)")
    .option('--retry', 'retry the latest saga (failed)')
    .option('--abort', 'abort the latest saga (running)')
    .option('--json', 'print JSON')
    .action(async (reference: string, options: { retry?: boolean; abort?: boolean; json?: boolean }) => {
      const sagas = await withCliContext(async (context) => {
        const found = await context.get(TenantAdmin).find(reference);
        const lifecycle = context.get(LifecycleService);
        if (options.retry) await lifecycle.retry(found.id, 'cli');
        if (options.abort) await lifecycle.abort(found.id, 'cli');
        return (await lifecycle.sagasOf(found.id)).map(({ saga, steps }) => SagaView.of(saga, steps));
      });
      if (options.json) printJson(sagas);
      else show(sagas);
    });

  tenant
    .command('offboard <tenant>')
    .description('fence the tenant, export it, and erase it from every store after the grace period')
    .option('--grace-days <n>', 'days it can still be restored (default LIFECYCLE_GRACE_DAYS)')
    .action(async (reference: string, options: { graceDays?: string }) => {
      const saga = await withCliContext(async (context) => {
        const found = await context.get(TenantAdmin).find(reference);
        return context.get(LifecycleService).offboard(found.id, 'cli', options.graceDays === undefined ? undefined : Number(options.graceDays));
      });
      print(`offboarding ${saga.id} started for ${saga.tenantId}; follow it with: npm run bulkhead -- tenant status ${saga.tenantId}`);
    });

  tenant
    .command('restore <tenant>')
    .description('within the grace period: stop the offboarding and bring the tenant back whole')
    .action(async (reference: string) => {
      await withCliContext(async (context) => {
        const found = await context.get(TenantAdmin).find(reference);
        await context.get(LifecycleService).restore(found.id, 'cli');
      });
      print('restore started: the fence is lifted once the worker has run the compensations');
    });

  tenant
    .command('archive <tenant>')
    .description("write the tenant's export archive (kept through the grace period) to a file; prints its manifest")
    .requiredOption('--out <file>', 'where to write the archive')
    .action(async (reference: string, options: { out: string }) => {
      const archive = await withCliContext(async (context) => context.get(LifecycleService).archive((await context.get(TenantAdmin).find(reference)).id));
      if (!archive) throw new Error('no archive (never offboarded, or erased)');
      writeFileSync(options.out, archive.content);
      printJson(archive.manifest);
    });

  tenant
    .command('certificate <tenant>')
    .description("the tenant's erasure certificate (JSON)")
    .action(async (reference: string) => {
      const certificate = await withCliContext(async (context) => {
        const found = await context.get(TenantAdmin).find(reference);
        return context.get(LifecycleService).certificate(found.id);
      });
      if (!certificate) throw new Error('the tenant has not been erased');
      printJson(certificate);
    });
}

import { ROUTE_CLASSES } from '@bulkhead/config';
import { CreateTenantDto, TenantAdmin, TenantRecord, TenantView } from '@bulkhead/control-plane';
import { ClassCounts, RequestCountsReader } from '@bulkhead/rate-limit';
import { BadRequestException } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { Command } from 'commander';
import { ISOLATION_MODELS, IsolationModel } from '@bulkhead/config';
import { MoveRecord, MoveView, TenantMover } from '@bulkhead/tenant-moves';
import { print, printJson, withCliContext } from '../cli-context';
import { registerLifecycleCommands } from './lifecycle.commands';
import { LifecycleService } from '@bulkhead/lifecycle';

function table(tenants: TenantRecord[]): void {
  print(['id'.padEnd(36), 'slug'.padEnd(24), 'tier'.padEnd(10), 'isolation'.padEnd(9), 'status'.padEnd(10), 'region'].join('  '));
  for (const t of tenants) {
    print([t.id, t.slug.padEnd(24), t.tier.padEnd(10), t.isolation.padEnd(9), t.status.padEnd(10), t.region].join('  '));
  }
}

export function registerTenantCommands(program: Command): void {
  const tenant = program.command('tenant').description('Operate the tenant registry (same rules as /v1/admin/tenants).');

  tenant
    .command('create')
    .requiredOption('--slug <slug>', 'lower-case letters, digits and single hyphens')
    .requiredOption('--name <name>', 'display name')
    .option('--tier <tier>', 'free | pro | enterprise', 'free')
    .option('--isolation <model>', 'pool | schema | silo (default: from the tier, TENANT_TIER_ISOLATION)')
    .option('--region <region>', "defaults to this deployment's REGION")
    .option('--external-ref <ref>', "identity provider organisation id (e.g. Auth0 org_id)")
    .option('--json', 'print JSON')
    .action(async (options: Record<string, string | boolean | undefined>) => {
      const input = plainToInstance(CreateTenantDto, {
        slug: options.slug,
        name: options.name,
        tier: options.tier,
        isolation: options.isolation,
        region: options.region,
        externalRef: options.externalRef,
      });
      const errors = validateSync(input, { whitelist: true, forbidNonWhitelisted: true });
      if (errors.length) throw new BadRequestException(errors.flatMap((e) => Object.values(e.constraints ?? {})).join('; '));
      // The onboarding saga, as the API's POST /v1/admin/tenants runs it: one way to make a tenant.
      const created = await withCliContext(async (context) => {
        const lifecycle = context.get(LifecycleService);
        const { saga } = await lifecycle.onboard(input, 'operator', 'cli');
        return lifecycle.completeOnboarding(saga.id);
      });
      if (options.json) printJson(TenantView.of(created));
      else table([created]);
    });

  tenant
    .command('list')
    .option('--status <status>', 'provisioning | active | suspended | deleted')
    .option('--tier <tier>', 'free | pro | enterprise')
    .option('--model <model>', 'pool | schema | silo')
    .option('--region <region>', 'a region key')
    .option('--search <prefix>', 'slugs starting with this')
    .option('--after <id>', 'the last id of the previous page')
    .option('--limit <n>', 'at most this many', '200')
    .option('--json', 'print JSON')
    .action(async (options: { status?: string; tier?: string; model?: string; region?: string; search?: string; after?: string; limit: string; json?: boolean }) => {
      const tenants = await withCliContext((context) =>
        context.get(TenantAdmin).list({
          status: options.status as TenantRecord['status'] | undefined,
          tier: options.tier as TenantRecord['tier'] | undefined,
          isolation: options.model as TenantRecord['isolation'] | undefined,
          region: options.region,
          search: options.search,
          after: options.after,
          limit: Number(options.limit),
        }),
      );
      if (options.json) printJson(tenants.map(TenantView.of));
      else table(tenants);
    });

  tenant
    .command('provision <tenant>')
    .description("create (again) a tenant's schema or database and bring it to the latest migration; idempotent, resumes a tenant left provisioning")
    .action(async (reference: string) => {
      const provisioned = await withCliContext(async (context) => {
        const admin = context.get(TenantAdmin);
        return admin.provision((await admin.find(reference)).id);
      });
      table([provisioned]);
    });

  tenant
    .command('move <tenant>')
    .description(
      'move a live tenant to another isolation model or cluster: copy while live, capture its writes, fence, verify parity, switch, ' +
        'keep the source read-only for MOVES_GRACE_MS, drop it. Running it again resumes an interrupted move, or follows it while another process drives it',
    )
    .option('--to <model>', 'pool | schema | silo')
    .option('--cluster <key>', 'target cluster (default: the one it is on)')
    .option('--abort', 'abort the unfinished move (before its switch): target dropped, source untouched')
    .option('--status', "print the tenant's newest move and exit")
    .option('--json', 'print JSON')
    .action(async (reference: string, options: { to?: string; cluster?: string; abort?: boolean; status?: boolean; json?: boolean }) => {
      const show = (move: MoveRecord) => {
        if (options.json) printJson(MoveView.of(move));
        else print(describeMove(move));
      };
      const final = await withCliContext(async (context) => {
        const admin = context.get(TenantAdmin);
        const mover = context.get(TenantMover);
        const found = await admin.find(reference);
        if (options.status) return mover.current(found.id);
        if (options.abort) return mover.abort(found.id);
        if (!options.to || !(ISOLATION_MODELS as readonly string[]).includes(options.to)) throw new BadRequestException('--to must be pool, schema or silo');
        const move = await mover.request(found.id, options.to as IsolationModel, options.cluster);
        let last = '';
        // A worker may be driving it already (it resumes moves whose mover died): then follow it.
        return mover.runOrFollow(move.id, (now) => {
          const line = describeMove(now);
          if (!options.json && line !== last) print(line);
          last = line;
        });
      });
      show(final);
      // Another process drives the move: it undoes it at its next step; this only asked.
      if (options.abort && !options.json && final.phase !== 'aborted' && final.abortRequested) {
        print(`abort requested: the process driving the move undoes it at its next step (follow it with --status)`);
      }
      if (final.phase === 'failed' || (!options.status && !options.abort && final.phase !== 'done')) process.exitCode = 1;
    });

  for (const verb of ['suspend', 'reactivate'] as const) {
    tenant
      .command(`${verb} <tenant>`)
      .description(`${verb} a tenant, by id or slug`)
      .action(async (reference: string) => {
        const changed = await withCliContext(async (context) => {
          const admin = context.get(TenantAdmin);
          const found = await admin.find(reference);
          return verb === 'suspend' ? admin.suspend(found.id) : admin.reactivate(found.id);
        });
        table([changed]);
      });
  }

  tenant
    .command('requests <tenant>')
    .description("a tenant's API requests per minute and route class, admitted and refused (the rate limiter's counts, same as GET /v1/admin/tenants/:id/request-counts)")
    .option('--minutes <n>', 'how many minutes up to now, at most 1440', '60')
    .option('--json', 'print JSON')
    .action(async (reference: string, options: { minutes: string; json?: boolean }) => {
      const minutes = Number(options.minutes);
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) throw new BadRequestException('--minutes must be a whole number from 1 to 1440');
      const view = await withCliContext(async (context) => {
        // As the route answers: an erased tenant's counts went with it, they are not zeros.
        const admin = context.get(TenantAdmin);
        const found = admin.operable(await admin.find(reference));
        return context.get(RequestCountsReader).read(found.id, minutes, new Date());
      });
      if (options.json) return printJson(view);
      const row = (label: string, admitted: ClassCounts, refused: ClassCounts) =>
        print([label.padEnd(24), ...ROUTE_CLASSES.map((routeClass) => `${admitted[routeClass]}/${refused[routeClass]}`.padStart(12))].join(''));
      print(`tenant ${view.tenantId}, ${view.from} to ${view.to}: admitted/refused per route class`);
      print(['minute (UTC)'.padEnd(24), ...ROUTE_CLASSES.map((routeClass) => routeClass.padStart(12))].join(''));
      for (const minute of view.minutes) row(minute.minute, minute.admitted, minute.refused);
      row('total', view.admitted, view.refused);
    });

  registerLifecycleCommands(tenant);
}

function placementOf(spec: MoveRecord['source']): string {
  return `${spec.isolation}@${spec.cluster}`;
}

function describeMove(move: MoveRecord): string {
  const p = move.progress;
  const facts = [
    p.copiedRows !== undefined ? `copied ${p.copiedRows}` : '',
    p.appliedChanges !== undefined ? `caught up ${p.appliedChanges}` : '',
    p.backlog !== undefined ? `backlog ${p.backlog}` : '',
    p.fenceMs !== undefined ? `fence ${p.fenceMs} ms` + (p.fenceCatchUpMs !== undefined ? ` (${p.fenceChanges} changes in ${p.fenceCatchUpMs} ms, parity ${p.fenceParityMs} ms)` : '') : '',
    move.error ? `error: ${move.error}` : '',
    p.abortReason ? `undone: ${p.abortReason}` : '',
  ].filter(Boolean);
  return `${move.id}  ${placementOf(move.source)} -> ${placementOf(move.target)}  ${move.phase}${facts.length ? '  ' + facts.join(', ') : ''}`;
}

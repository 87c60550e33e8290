import { CreateTenantDto, TenantAdmin, TenantRecord, TenantView } from '@bulkhead/control-plane';
import { BadRequestException } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { Command } from 'commander';
import { print, printJson, withCliContext } from '../cli-context';

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
      const created = await withCliContext((context) => context.get(TenantAdmin).create(input));
      if (options.json) printJson(TenantView.of(created));
      else table([created]);
    });

  tenant
    .command('list')
    .option('--status <status>', 'provisioning | active | suspended | deleted')
    .option('--limit <n>', 'at most this many', '200')
    .option('--json', 'print JSON')
    .action(async (options: { status?: string; limit: string; json?: boolean }) => {
      const tenants = await withCliContext((context) =>
        context.get(TenantAdmin).list({ status: options.status as TenantRecord['status'] | undefined, limit: Number(options.limit) }),
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
}

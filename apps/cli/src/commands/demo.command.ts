import { loadConfig } from '@bulkhead/config';
import { TenantTier } from '@bulkhead/config';
import { TenantAdmin, TenantRecord } from '@bulkhead/control-plane';
import { DevIssuer } from '@bulkhead/identity';
import { CustomersService, OrdersService } from '@bulkhead/sales';
import { runWithTenant, tenantContextOf } from '@bulkhead/tenancy';
import { INestApplicationContext } from '@nestjs/common';
import { ChildProcess, spawn } from 'node:child_process';
import { Command } from 'commander';
import { print, withCliContext } from '../cli-context';
import { setupDatabase } from './database.commands';
import { LifecycleService } from '@bulkhead/lifecycle';

const DEMO_TENANTS: Array<{ slug: string; name: string; tier: TenantTier }> = [
  { slug: 'acme', name: 'Acme Corp', tier: 'enterprise' },
  { slug: 'globex', name: 'Globex', tier: 'pro' },
  { slug: 'initech', name: 'Initech', tier: 'free' },
];

/** Creates the demo tenants and their data once; running it again reuses them. */
async function seedDemo(context: INestApplicationContext): Promise<TenantRecord[]> {
  const admin = context.get(TenantAdmin);
  const tenants: TenantRecord[] = [];
  for (const demo of DEMO_TENANTS) {
    const existing = await admin.find(demo.slug).catch(() => null);
    if (existing) {
      tenants.push(existing);
      continue;
    }
    const lifecycle = context.get(LifecycleService);
    const tenant = await lifecycle.completeOnboarding((await lifecycle.onboard(demo, 'operator', 'demo')).saga.id);
    tenants.push(tenant);
    await runWithTenant(
      tenantContextOf(tenant, 'demo-seed'),
      async () => {
        for (let i = 1; i <= 3; i++) {
          const customer = await context.get(CustomersService).create({ email: `customer${i}@${demo.slug}.example`, name: `${demo.name} customer ${i}` });
          await context.get(OrdersService).create({ customerId: customer.id, totalCents: 1000 * i, currency: 'EUR' });
        }
      },
    );
  }
  return tenants;
}

/** `running`: the demo's own API is up (`demo`), rather than only the data seeded (`seed-demo`). */
function printWelcome(tenants: TenantRecord[], issuer: DevIssuer, port: number, running: boolean): void {
  const base = `http://localhost:${port}`;
  print('');
  if (running) {
    print('Bulkhead demo. The development token issuer is ON: never run this configuration in production.');
    print(`API ${base}   OpenAPI ${base}/docs   readiness ${base}/health/ready`);
  } else {
    // Nothing was started: the tokens below verify only on an API started with the dev issuer.
    print('Demo tenants seeded. Nothing was started: the tokens below are accepted only by an API started with DEV_ISSUER=true');
    print(`(and the same DEV_ISSUER_KEY_FILE), for example: DEV_ISSUER=true npm run start:api, then ${base}.`);
  }
  print(`Operator console ${base}/console (development login: paste TOKEN_OPERATOR below)`);
  print('');
  for (const tenant of tenants) {
    const token = issuer.mint({ subject: `${tenant.slug}-admin`, tenantId: tenant.id, expiresInSeconds: 12 * 3600 });
    print(`${tenant.slug} (${tenant.tier}, ${tenant.isolation}) ${tenant.id}`);
    print(`  export TOKEN_${tenant.slug.toUpperCase()}=${token}`);
  }
  const operator = issuer.mint({ subject: 'demo-operator', scopes: [loadConfig().AUTH_OPERATOR_SCOPE], expiresInSeconds: 12 * 3600 });
  print(`operator`);
  print(`  export TOKEN_OPERATOR=${operator}`);
  print('');
  print('Try:');
  print(`  curl -s ${base}/v1/customers -H "Authorization: Bearer $TOKEN_ACME"`);
  print(`  curl -s ${base}/v1/orders -H "Authorization: Bearer $TOKEN_GLOBEX"`);
  print(`  curl -s -X POST ${base}/v1/customers -H "Authorization: Bearer $TOKEN_INITECH" -H 'Content-Type: application/json' -d '{"email":"new@initech.example","name":"New"}'`);
  print(`  curl -s ${base}/v1/admin/tenants -H "Authorization: Bearer $TOKEN_OPERATOR"`);
  print(`  # a background job: export acme's orders as CSV (the worker runs it in acme's tenant context)`);
  print(`  curl -s -X POST ${base}/v1/exports -H "Authorization: Bearer $TOKEN_ACME"   # then GET /v1/exports/<id> and /v1/exports/<id>/content`);
  print(`  curl -s ${base}/v1/admin/jobs -H "Authorization: Bearer $TOKEN_OPERATOR"   # per-tenant backlog, in flight, oldest wait`);
  print(`  # another tenant's id answers 404, exactly like a missing one:`);
  print(`  curl -s ${base}/v1/customers/$(curl -s ${base}/v1/customers -H "Authorization: Bearer $TOKEN_ACME" | node -pe 'JSON.parse(require("fs").readFileSync(0)).items[0].id') -H "Authorization: Bearer $TOKEN_GLOBEX"`);
  print('');
}

/**
 * A server's young generation sized for its allocation rate, as `npm run start:api` runs it: with
 * V8's default (16 MB semi-spaces) a busy API spent an eighth of its time in scavenges, most of
 * them promoting short-lived request objects into the old generation.
 */
const SERVER_FLAGS = ['--max-semi-space-size=64'];

function startProcess(entry: string): ChildProcess {
  return spawn(process.execPath, [...process.execArgv, ...SERVER_FLAGS, require.resolve(entry)], { stdio: 'inherit', env: process.env });
}

export function registerDemoCommands(program: Command): void {
  program
    .command('seed-demo')
    .description('Create the demo tenants (one per tier) with a few customers and orders, and print tokens.')
    .action(async () => {
      const config = loadConfig();
      const tenants = await withCliContext(seedDemo);
      printWelcome(tenants, new DevIssuer(config), config.PORT, false);
    });

  program
    .command('demo')
    .description('Set up the database, seed the demo, then run the API and the worker until Ctrl-C.')
    .action(async () => {
      process.env.DEV_ISSUER ??= 'true';
      process.env.LOG_LEVEL ??= 'warn';
      await setupDatabase();
      const config = loadConfig();
      const tenants = await withCliContext(seedDemo);
      const children = [startProcess('../../../api/src/main'), startProcess('../../../worker/src/main')];
      printWelcome(tenants, new DevIssuer(config), config.PORT, true);
      const stop = () => children.forEach((child) => child.kill('SIGTERM'));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      await Promise.all(
        children.map((child) => new Promise<void>((resolve) => child.on('exit', (code) => {
          if (code) process.exitCode = code;
          stop();
          resolve();
        }))),
      );
    });
}

/**
 * Fair admission under a flood, on one API process against its own database
 * (bulkhead_fairbench, recreated every run): one tenant keeps 200 requests in flight while 20
 * quiet tenants read at a steady modest rate. Beside it, the bare floor (node:http + pg, the same
 * scoped read, no framework, the pool's FIFO) under the same load. The load comes from a separate
 * process (bench/fairness/fairness-load.ts). Durations scale with BENCH_SCALE.
 */
import { loadConfig } from '@bulkhead/config';
import { TenantAdmin, TenantRecord } from '@bulkhead/control-plane';
import { bootstrapDatabase, migrateDatabase, withDatabase, withPg } from '@bulkhead/database';
import { DevIssuer } from '@bulkhead/identity';
import { migrationSourcesFor } from '@bulkhead/tenancy';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { ApiModule } from '../../apps/api/src/api.module';
import { createHttpApp } from '../../apps/api/src/http.setup';
import { DOMAINS } from '../../apps/domains';
import { BenchSection } from '../bench-section';
import type { FairnessPlan, FairnessResult, GroupResult } from '../fairness/fairness-load';
import { startBareServer } from '../floor/bare-server';
import { runLoadProcess } from '../load/run-load';

const SCALE = Number(process.env.BENCH_SCALE ?? '1') > 0 ? Number(process.env.BENCH_SCALE ?? '1') : 1;
const DURATION_MS = Math.max(3000, Math.round(10_000 * SCALE));
const QUIET_TENANTS = 20;
const QUIET_INTERVAL_MS = 200;
const FLOOD = 200;
const ORDERS_PER_TENANT = 200;
const PATH = '/v1/orders?limit=20';

const BENCH_RATE_LIMITS = 'read:6000000,write:6000000,export:6000000,ingest:6000000';

const BENCH_ENV: Record<string, string> = {
  DATABASE_URL: 'postgres://bulkhead_app:bulkhead_app@127.0.0.1:5432/bulkhead_fairbench',
  DATABASE_OWNER_URL: 'postgres://bulkhead_owner:bulkhead_owner@127.0.0.1:5432/bulkhead_fairbench',
  DEV_ISSUER: 'true',
  DEV_ISSUER_KEY_FILE: '.data/bench-issuer-key.json',
  LOG_LEVEL: 'warn',
  DATABASE_POOL_MAX: '10',
  // The limiter runs (it is part of the request path) but never refuses: this measures the path, not the quota.
  RATE_LIMIT_FREE: BENCH_RATE_LIMITS,
  RATE_LIMIT_PRO: BENCH_RATE_LIMITS,
  RATE_LIMIT_ENTERPRISE: BENCH_RATE_LIMITS,
};

function runLoad(plan: FairnessPlan): Promise<FairnessResult> {
  return runLoadProcess<FairnessResult>(require.resolve('../fairness/fairness-load'), plan);
}

async function seed(adminUrl: string, tenants: TenantRecord[]): Promise<void> {
  // Bulk rows through a superuser: RLS would (rightly) refuse an owner writing without a tenant.
  await withPg(withDatabase(adminUrl, 'bulkhead_fairbench'), 'bench-seed', async (client) => {
    for (const tenant of tenants) {
      await client.query(`INSERT INTO customers (tenant_id, id, email, name) VALUES ($1, gen_random_uuid(), 'c@bench.test', 'Customer')`, [tenant.id]);
      await client.query(
        `INSERT INTO orders (tenant_id, id, customer_id, status, total_cents, currency)
           SELECT $1, gen_random_uuid(), (SELECT id FROM customers WHERE tenant_id = $1 LIMIT 1), 'paid', (random() * 10000)::int, 'EUR'
             FROM generate_series(1, $2::int)`,
        [tenant.id, ORDERS_PER_TENANT],
      );
    }
    await client.query('ANALYZE orders');
  });
}

const ms = (value: number) => value.toFixed(1);

interface ProcessTrace {
  loopP99Ms: number;
  loopMaxMs: number;
  gcMs: number;
  gcMaxMs: number;
  cpuShare: number;
}

/** What this process (the API under test) lived through during `work`: event-loop delay, GC pauses, CPU. */
async function traced<T>(work: () => Promise<T>): Promise<[T, ProcessTrace]> {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  let gcMs = 0;
  let gcMaxMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMs += entry.duration;
      gcMaxMs = Math.max(gcMaxMs, entry.duration);
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  loop.enable();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await work();
  const used = process.cpuUsage(cpu);
  loop.disable();
  gc.disconnect();
  const wall = performance.now() - started;
  return [result, { loopP99Ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6, gcMs, gcMaxMs, cpuShare: (used.user + used.system) / 1000 / wall }];
}
const statuses = (group: GroupResult) =>
  Object.entries(group.byStatus)
    .filter(([status]) => status !== '200')
    .map(([status, count]) => `${count}×${status === '0' ? 'conn' : status}`)
    .join(', ') || 'none';

export async function fairnessBench(): Promise<BenchSection> {
  Object.assign(process.env, BENCH_ENV);
  const config = loadConfig();
  await bootstrapDatabase({ adminUrl: config.DATABASE_ADMIN_URL, ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL }, { recreate: true });
  await migrateDatabase({ ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL, sources: migrationSourcesFor(DOMAINS) });
  const app = await createHttpApp(ApiModule, config, { docs: false });
  await app.listen(0, '127.0.0.1');
  const bare = await startBareServer(config.DATABASE_URL, config.DATABASE_POOL_MAX);
  try {
    const admin = app.get(TenantAdmin);
    const stamp = Date.now().toString(36);
    const tenants: TenantRecord[] = [];
    for (let i = 0; i <= QUIET_TENANTS; i++) tenants.push(await admin.create({ slug: `fair-${i}-${stamp}`, name: `Fair ${i}`, tier: 'free' }));
    await seed(config.DATABASE_ADMIN_URL, tenants);
    const issuer = new DevIssuer(config);
    const [noisy, ...quiet] = tenants;
    const servers: Array<{ name: string; base: string; headers: (t: TenantRecord) => Record<string, string> }> = [
      { name: 'Bulkhead', base: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`, headers: (t: TenantRecord) => ({ Authorization: `Bearer ${issuer.mint({ subject: 'bench', tenantId: t.id })}` }) },
      { name: 'bare floor', base: bare.url, headers: (t: TenantRecord) => ({ 'x-tenant': t.id }) },
    ];
    const rows: string[] = [];
    const traces: string[] = [];
    for (const server of servers) {
      const common = { base: server.base, path: PATH, durationMs: DURATION_MS, quietIntervalMs: QUIET_INTERVAL_MS, quiet: quiet.map(server.headers) };
      await runLoad({ ...common, durationMs: 1000, inFlight: 0 }); // warm-up: connections, caches
      const [unloaded, calm] = await traced(() => runLoad({ ...common, inFlight: 0 }));
      const spread = await runLoad({ ...common, inFlight: FLOOD, noisy: server.headers(noisy), spread: true });
      const [flood, stormy] = await traced(() => runLoad({ ...common, inFlight: FLOOD, noisy: server.headers(noisy) }));
      for (const [phase, trace] of [['unloaded', calm], ['flood', stormy]] as const) {
        traces.push(
          `| ${server.name} | ${phase} | ${ms(trace.loopP99Ms)} | ${ms(trace.loopMaxMs)} | ${ms(trace.gcMs)} | ${ms(trace.gcMaxMs)} | ${(trace.cpuShare * 100).toFixed(0)}% |`,
        );
      }
      const spreadGoodput = spread.quiet.okPerSecond + spread.loud.okPerSecond;
      const floodGoodput = flood.quiet.okPerSecond + flood.loud.okPerSecond;
      rows.push(
        `| ${server.name} | ${flood.quiet.ok}/${flood.quiet.sent} | ${statuses(flood.quiet)} | ${ms(unloaded.quiet.p99)} | ${ms(flood.quiet.p99)} | ` +
          `${(flood.quiet.p99 / Math.max(unloaded.quiet.p99, 0.001)).toFixed(2)}x | ${flood.loud.ok}/${flood.loud.sent} | ${statuses(flood.loud)} | ` +
          `${flood.loud.withoutRetryAfter} | ${spreadGoodput.toFixed(0)} | ${floodGoodput.toFixed(0)} | ${(floodGoodput / Math.max(spreadGoodput, 1)).toFixed(2)}x |`,
      );
    }
    return {
      title: 'Fairness under a flood (one API process)',
      markdown: [
        `${QUIET_TENANTS} quiet pool tenants each read \`GET ${PATH}\` every ${QUIET_INTERVAL_MS} ms (open loop, ${(QUIET_TENANTS * 1000) / QUIET_INTERVAL_MS} req/s in all) ` +
          `while one noisy pool tenant keeps ${FLOOD} requests in flight (closed loops), ${DURATION_MS / 1000} s, the load from a separate process. ` +
          `Unloaded: the quiet tenants alone. Spread: the same ${FLOOD} closed loops spread over all ${QUIET_TENANTS + 1} tenants (the pool saturated, nobody flooding it): the goodput baseline. ` +
          `DATABASE_POOL_MAX=${config.DATABASE_POOL_MAX}, other settings at their defaults (TENANT_MAX_CONNECTIONS=${config.TENANT_MAX_CONNECTIONS}, ` +
          `TENANT_MAX_QUEUE=${config.TENANT_MAX_QUEUE}, POOL_QUEUE_BUDGET_MS=${config.POOL_QUEUE_BUDGET_MS}). The bare floor is node:http + pg doing the same scoped read ` +
          '(tenant from a header, no token, no fairness: the pool\'s FIFO).',
        '',
        '| server | quiet ok/sent | quiet errors | quiet p99 unloaded ms | quiet p99 flood ms | p99 ratio | noisy ok/sent | noisy refused | refusals without Retry-After | goodput spread req/s | goodput flood req/s | goodput ratio |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|',
        ...rows,
        '',
        'The bench process (both servers live in it) during the unloaded and flood runs: event-loop delay, garbage-collection pauses, CPU (100% = one core).',
        '',
        '| server | run | event-loop delay p99 ms | max ms | GC pauses total ms | longest GC ms | CPU |',
        '|---|---|---|---|---|---|---|',
        ...traces,
      ].join('\n'),
    };
  } finally {
    await bare.close();
    await app.close();
  }
}

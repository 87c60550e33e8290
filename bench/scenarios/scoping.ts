/**
 * Tenant scoping overhead, side by side in one process against one database: the scoped routes
 * (verified JWT, tenant guard, transaction that sets the tenant, RLS, scoped repository) against
 * an unscoped control running the same query with none of that, plus the same read route with a
 * plain Scope.REQUEST tenant provider. Sizes scale with BENCH_SCALE.
 */
import { BulkheadConfig, loadConfig } from '@bulkhead/config';
import { bootstrapDatabase, migrateDatabase, withPg } from '@bulkhead/database';
import { TenantAdmin, TenantRecord } from '@bulkhead/control-plane';
import { DevIssuer } from '@bulkhead/identity';
import { migrationSourcesFor } from '@bulkhead/tenancy';
import { DOMAINS } from '../../apps/domains';
import type { AddressInfo } from 'node:net';
import { createHttpApp } from '../../apps/api/src/http.setup';
import { BenchSection } from '../bench-section';
import { startBareServer } from '../floor/bare-server';
import { runLoad } from '../load/run-load';
import { ScopingBenchModule } from '../scoping/scoping.bench-module';

const SCALE = Number(process.env.BENCH_SCALE ?? '1') > 0 ? Number(process.env.BENCH_SCALE ?? '1') : 1;
const DURATION_S = Math.max(2, Math.round(6 * SCALE));
const ROUNDS = 3;
const CONNECTIONS = 16;
const TENANTS = 50;
const ORDERS_PER_TENANT = Math.max(100, Math.round(2000 * SCALE));
const RSS_REQUESTS = Math.max(10_000, Math.round(100_000 * SCALE));
const RSS_STEP = RSS_REQUESTS / 4;

const BENCH_RATE_LIMITS = 'read:6000000,write:6000000,export:6000000,ingest:6000000';

const BENCH_ENV: Record<string, string> = {
  DATABASE_URL: 'postgres://bulkhead_app:bulkhead_app@127.0.0.1:5432/bulkhead_bench',
  DATABASE_OWNER_URL: 'postgres://bulkhead_owner:bulkhead_owner@127.0.0.1:5432/bulkhead_bench',
  DEV_ISSUER: 'true',
  DEV_ISSUER_KEY_FILE: '.data/bench-issuer-key.json',
  // Per-request access logs off for every route alike: the comparison is about scoping.
  LOG_LEVEL: 'warn',
  TENANT_CACHE_TTL_MS: '1000',
  DATABASE_POOL_MAX: '10',
  // The limiter runs (it is part of the request path) but never refuses: this measures the path, not the quota.
  RATE_LIMIT_FREE: BENCH_RATE_LIMITS,
  RATE_LIMIT_PRO: BENCH_RATE_LIMITS,
  RATE_LIMIT_ENTERPRISE: BENCH_RATE_LIMITS,
  // No plan quota either: the write runs tens of thousands of times, far past free's 1,000 orders a month.
  METERING_PLANS: 'free:;pro:;enterprise:',
};

interface Measured {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  codes?: Record<string, number>;
}

async function seed(config: BulkheadConfig, admin: TenantAdmin): Promise<{ tenantId: string; orderIds: string[]; customerId: string }> {
  const tenants: TenantRecord[] = [];
  for (let i = 0; i < TENANTS; i++) {
    tenants.push(await admin.create({ slug: `bench-${i}-${Date.now().toString(36)}`, name: `Bench ${i}`, tier: 'free' }));
  }
  const superuser = new URL(config.DATABASE_ADMIN_URL);
  superuser.pathname = '/bulkhead_bench';
  // Bulk rows through a superuser: RLS would (rightly) refuse an owner writing without a tenant.
  await withPg(superuser.toString(), 'bench-seed', async (client) => {
    for (const tenant of tenants) {
      await client.query(
        `INSERT INTO customers (tenant_id, id, email, name)
           SELECT $1, gen_random_uuid(), 'c' || g || '@bench.test', 'Customer ' || g FROM generate_series(1, 20) g`,
        [tenant.id],
      );
      await client.query(
        `INSERT INTO orders (tenant_id, id, customer_id, status, total_cents, currency)
           SELECT $1, gen_random_uuid(), c.id, 'paid', (random() * 10000)::int, 'EUR'
             FROM generate_series(1, $2::int) g
             CROSS JOIN LATERAL (SELECT id FROM customers WHERE tenant_id = $1 OFFSET (g % 20) LIMIT 1) c`,
        [tenant.id, ORDERS_PER_TENANT],
      );
    }
    await client.query('ANALYZE customers');
    await client.query('ANALYZE orders');
  });
  const target = tenants[Math.floor(TENANTS / 2)];
  const rows = await withPg(superuser.toString(), 'bench-seed', (client) =>
    client.query<{ id: string }>('SELECT id FROM orders WHERE tenant_id = $1 ORDER BY random() LIMIT 200', [target.id]),
  );
  const customer = await withPg(superuser.toString(), 'bench-seed', (client) =>
    client.query<{ id: string }>('SELECT id FROM customers WHERE tenant_id = $1 LIMIT 1', [target.id]),
  );
  return { tenantId: target.id, orderIds: rows.rows.map((row) => row.id), customerId: customer.rows[0].id };
}

export async function scopingBench(): Promise<BenchSection> {
  Object.assign(process.env, BENCH_ENV);
  const config = loadConfig();
  await bootstrapDatabase({ adminUrl: config.DATABASE_ADMIN_URL, ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL }, { recreate: true });
  await migrateDatabase({ ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL, sources: migrationSourcesFor(DOMAINS) });

  const app = await createHttpApp(ScopingBenchModule, config, { docs: false });
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const bare = await startBareServer(config.DATABASE_URL, config.DATABASE_POOL_MAX);
  try {
    const { tenantId, orderIds, customerId } = await seed(config, app.get(TenantAdmin));
    const token = new DevIssuer(config).mint({ subject: 'bench', tenantId, expiresInSeconds: 3600 });
    const auth = { Authorization: `Bearer ${token}` };
    const floor = { 'x-tenant': tenantId };
    const write = JSON.stringify({ customerId, totalCents: 1000, currency: 'EUR', note: 'bench {{i}}' });
    const bareWrite = JSON.stringify({ customerId, totalCents: 1000, currency: 'EUR' });
    type Scenario = { name: string; group: 'read' | 'list' | 'write' | 'write-same-work'; url: string; paths: string[]; headers: Record<string, string>; method?: 'POST'; body?: string };
    const scenarios: Scenario[] = [
      { name: 'bare floor: GET order (node:http + pg)', group: 'read', url: bare.url, paths: orderIds.map((id) => `/v1/orders/${id}`), headers: floor },
      { name: 'control: GET order (no guard, no RLS, no tx)', group: 'read', url: base, paths: orderIds.map((id) => `/bench/control/orders/${id}?tenant=${tenantId}`), headers: {} },
      { name: 'scoped: GET /v1/orders/:id', group: 'read', url: base, paths: orderIds.map((id) => `/v1/orders/${id}`), headers: auth },
      { name: 'scoped, RequestTenant (ALS singleton)', group: 'read', url: base, paths: orderIds.map((id) => `/bench/context-tenant/orders/${id}`), headers: auth },
      { name: 'scoped, plain Scope.REQUEST provider', group: 'read', url: base, paths: orderIds.map((id) => `/bench/request-scoped/orders/${id}`), headers: auth },
      { name: 'bare floor: list 20 orders', group: 'list', url: bare.url, paths: ['/v1/orders?limit=20'], headers: floor },
      { name: 'control: list 20 orders', group: 'list', url: base, paths: [`/bench/control/orders?tenant=${tenantId}`], headers: {} },
      { name: 'scoped: GET /v1/orders (list 20)', group: 'list', url: base, paths: ['/v1/orders'], headers: auth },
      { name: 'bare floor: POST order (tx: insert, the foreign key checks the customer)', group: 'write', url: bare.url, paths: ['/v1/orders'], headers: floor, method: 'POST', body: bareWrite },
      { name: 'scoped: POST /v1/orders', group: 'write', url: base, paths: ['/v1/orders'], headers: auth, method: 'POST', body: write },
      {
        name: 'bare floor: POST order + usage event and rollups + audit entry (the same database work)',
        group: 'write-same-work',
        url: bare.url,
        paths: ['/v1/orders'],
        headers: { ...floor, 'x-floor-work': 'metered-audited' },
        method: 'POST',
        body: bareWrite,
      },
      { name: 'scoped: POST /v1/orders (vs the same database work)', group: 'write-same-work', url: base, paths: ['/v1/orders'], headers: auth, method: 'POST', body: write },
    ];
    // Warm every route (JIT, caches, pool) before measuring.
    for (const scenario of scenarios) {
      await runLoad({ url: scenario.url, connections: 4, amount: 500, headers: scenario.headers, paths: scenario.paths, method: scenario.method, body: scenario.body });
    }
    const results = new Map<string, Measured[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const scenario of scenarios) {
        const result = await runLoad({
          url: scenario.url,
          connections: CONNECTIONS,
          durationS: DURATION_S,
          headers: scenario.headers,
          paths: scenario.paths,
          method: scenario.method,
          body: scenario.body,
        });
        results.set(scenario.name, [...(results.get(scenario.name) ?? []), { name: scenario.name, ...result }]);
      }
    }
    // Memory over a long run: RSS (and heap after a full collection, when --expose-gc allows one)
    // sampled every RSS_STEP scoped reads. The API is this process; the idle bare floor adds nothing.
    const memory: Array<{ after: number; rssMb: number; heapMb: number }> = [];
    const sampleMemory = (after: number) => {
      (globalThis as { gc?: () => void }).gc?.();
      const usage = process.memoryUsage();
      memory.push({ after, rssMb: usage.rss / 2 ** 20, heapMb: usage.heapUsed / 2 ** 20 });
    };
    sampleMemory(0);
    for (let done = 0; done < RSS_REQUESTS; done += RSS_STEP) {
      await runLoad({ url: base, connections: CONNECTIONS, amount: RSS_STEP, headers: auth, paths: orderIds.map((id) => `/v1/orders/${id}`) });
      sampleMemory(done + RSS_STEP);
    }
    const best = new Map(
      scenarios.map((scenario) => [scenario.name, (results.get(scenario.name) ?? []).reduce((a, b) => (b.rps > a.rps ? b : a))]),
    );
    // A floor that fails answers fast, so its rate is no baseline: stop rather than report a ratio against it.
    const failedFloors = scenarios.filter((x) => x.name.startsWith('bare floor') && (results.get(x.name) ?? []).some((m) => m.errors > 0));
    if (failedFloors.length) throw new Error(`bare floor failed requests: ${failedFloors.map((x) => x.name).join('; ')}`);
    const floorOf = (group: Scenario['group']) => best.get(scenarios.find((x) => x.group === group && x.name.startsWith('bare floor'))?.name ?? '') as Measured;
    const rows = scenarios.map((scenario) => {
      const m = best.get(scenario.name) as Measured;
      // Which errors: statuses other than 2xx by code, the rest (socket errors, timeouts) apart.
      const statuses = Object.entries(m.codes ?? {}).filter(([code]) => !code.startsWith('2'));
      const socket = m.errors - statuses.reduce((sum, [, count]) => sum + count, 0);
      const detail = [...statuses.map(([code, count]) => `${code}: ${count}`), ...(socket > 0 ? [`socket/timeout: ${socket}`] : [])].join(', ');
      return `| ${m.name} | ${Math.round(m.rps)} | ${m.p50.toFixed(1)} | ${m.p99.toFixed(1)} | ${(m.rps / floorOf(scenario.group).rps).toFixed(2)}x | ${m.errors}${detail ? ` (${detail})` : ''} |`;
    });
    const ratio = (name: string, group: Scenario['group']) => ((best.get(name) as Measured).rps / floorOf(group).rps).toFixed(2);
    const requestScoped = best.get('scoped, plain Scope.REQUEST provider') as Measured;
    const context = best.get('scoped, RequestTenant (ALS singleton)') as Measured;
    const markdown = [
      `${TENANTS} tenants x ${ORDERS_PER_TENANT} orders; reads by primary key over ${orderIds.length} ids of one tenant; ` +
        `autocannon in a separate process, ${CONNECTIONS} connections, ${DURATION_S} s per run, best of ${ROUNDS} interleaved rounds; pool of ${config.DATABASE_POOL_MAX} connections. ` +
        'The bare floor is node:http + pg doing the same scoped work as the runtime role with RLS on (bench/floor/bare-server.ts); the control is the same TypeORM query through a superuser pool with no guard.',
      '',
      '| route | req/s | p50 ms | p99 ms | vs bare floor | errors |',
      '|---|---|---|---|---|---|',
      ...rows,
      '',
      `Memory of the API process over ${RSS_REQUESTS.toLocaleString('en-US')} more scoped by-id reads (after the runs above)${(globalThis as { gc?: () => void }).gc ? ', heap after a full GC' : ''}:`,
      '',
      `| requests | ${memory.map((m) => m.after.toLocaleString('en-US')).join(' | ')} |`,
      `|---|${memory.map(() => '---:').join('|')}|`,
      `| RSS MB | ${memory.map((m) => m.rssMb.toFixed(1)).join(' | ')} |`,
      `| heap used MB | ${memory.map((m) => m.heapMb.toFixed(1)).join(' | ')} |`,
      '',
      `Scoped by-id read at **${ratio('scoped: GET /v1/orders/:id', 'read')}x** of the bare floor, list at **${ratio('scoped: GET /v1/orders (list 20)', 'list')}x**, ` +
        `write at **${ratio('scoped: POST /v1/orders', 'write')}x** (target 0.5x; the floor inserts the order only), ` +
        `and **${ratio('scoped: POST /v1/orders (vs the same database work)', 'write-same-work')}x** of a floor doing the same database work (the order, its usage event and rollups, its audit entry). ` +
        `RequestTenant (AsyncLocalStorage singleton) vs a plain Scope.REQUEST provider on the same route: ` +
        `**${(context.rps / requestScoped.rps).toFixed(2)}x** the throughput.`,
    ].join('\n');
    return { title: 'Scoping: tenant-scoped reads and writes vs the bare floor', markdown };
  } finally {
    await bare.close();
    await app.close();
  }
}

if (require.main === module) {
  scopingBench()
    .then((section) => process.stdout.write(`## ${section.title}\n\n${section.markdown}\n`))
    .catch((error) => {
      process.stderr.write(`${(error as Error).stack ?? error}\n`);
      process.exit(1);
    });
}

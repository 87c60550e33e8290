/**
 * What the per-tenant rate limiter costs the scoped read: the production API (with the limiter:
 * one EVALSHA that decides and counts, or for a busy tenant a lease of requests admitted in
 * process, RATE_LIMIT_LEASE_MS) against the same API built without it, both
 * running in this process at once, loaded in turn from a separate autocannon process, with the
 * bare floor beside them. Limits are set out of reach, so every request does the whole work and
 * none is refused.
 */
import { loadConfig } from '@bulkhead/config';
import { TenantAdmin } from '@bulkhead/control-plane';
import { bootstrapDatabase, migrateDatabase, withPg } from '@bulkhead/database';
import { DevIssuer } from '@bulkhead/identity';
import { TenantRateLimiter } from '@bulkhead/rate-limit';
import { migrationSourcesFor } from '@bulkhead/tenancy';
import { INestApplication, Type } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { ApiModule } from '../../apps/api/src/api.module';
import { createHttpApp } from '../../apps/api/src/http.setup';
import { DOMAINS } from '../../apps/domains';
import { BenchSection } from '../bench-section';
import { startBareServer } from '../floor/bare-server';
import { runLoad } from '../load/run-load';
import { UnlimitedApiBenchModule } from '../rate-limit/unlimited-api.bench-module';

const SCALE = Number(process.env.BENCH_SCALE ?? '1') > 0 ? Number(process.env.BENCH_SCALE ?? '1') : 1;
const DURATION_S = Math.max(2, Math.round(3 * SCALE));
const ROUNDS = 10;
const CONNECTIONS = 16;
const ORDERS = Math.max(100, Math.round(2000 * SCALE));
const OUT_OF_REACH = 'read:6000000,write:6000000,export:6000000,ingest:6000000';

const BENCH_ENV: Record<string, string> = {
  DATABASE_URL: 'postgres://bulkhead_app:bulkhead_app@127.0.0.1:5432/bulkhead_bench_rl',
  DATABASE_OWNER_URL: 'postgres://bulkhead_owner:bulkhead_owner@127.0.0.1:5432/bulkhead_bench_rl',
  DEV_ISSUER: 'true',
  DEV_ISSUER_KEY_FILE: '.data/bench-issuer-key.json',
  LOG_LEVEL: 'warn',
  TENANT_CACHE_TTL_MS: '1000',
  DATABASE_POOL_MAX: '10',
  RATE_LIMIT_FREE: OUT_OF_REACH,
  RATE_LIMIT_PRO: OUT_OF_REACH,
  RATE_LIMIT_ENTERPRISE: OUT_OF_REACH,
};

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time of this process (both APIs live here, only one is loaded at a time) per response, µs. */
  cpuUs: number;
}

async function listen(module: Type<unknown>, config: ReturnType<typeof loadConfig>): Promise<{ app: INestApplication; url: string }> {
  const app = await createHttpApp(module, config, { docs: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}` };
}

export async function rateLimitBench(): Promise<BenchSection> {
  Object.assign(process.env, BENCH_ENV);
  const config = loadConfig();
  await bootstrapDatabase({ adminUrl: config.DATABASE_ADMIN_URL, ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL }, { recreate: true });
  await migrateDatabase({ ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL, sources: migrationSourcesFor(DOMAINS) });

  const limited = await listen(ApiModule, config);
  const unlimited = await listen(UnlimitedApiBenchModule, config);
  const bare = await startBareServer(config.DATABASE_URL, config.DATABASE_POOL_MAX);
  try {
    const tenant = await limited.app.get(TenantAdmin).create({ slug: `bench-rl-${Date.now().toString(36)}`, name: 'Bench RL', tier: 'free' });
    const superuser = new URL(config.DATABASE_ADMIN_URL);
    superuser.pathname = '/bulkhead_bench_rl';
    // Bulk rows through a superuser: RLS would (rightly) refuse an owner writing without a tenant.
    const orderIds = await withPg(superuser.toString(), 'bench-seed', async (client) => {
      await client.query(
        `INSERT INTO customers (tenant_id, id, email, name) SELECT $1, gen_random_uuid(), 'c' || g || '@bench.test', 'Customer ' || g FROM generate_series(1, 20) g`,
        [tenant.id],
      );
      await client.query(
        `INSERT INTO orders (tenant_id, id, customer_id, status, total_cents, currency)
           SELECT $1, gen_random_uuid(), c.id, 'paid', (random() * 10000)::int, 'EUR'
             FROM generate_series(1, $2::int) g
             CROSS JOIN LATERAL (SELECT id FROM customers WHERE tenant_id = $1 OFFSET (g % 20) LIMIT 1) c`,
        [tenant.id, ORDERS],
      );
      await client.query('ANALYZE orders');
      const rows = await client.query<{ id: string }>('SELECT id FROM orders WHERE tenant_id = $1 ORDER BY random() LIMIT 200', [tenant.id]);
      return rows.rows.map((row) => row.id);
    });
    const token = new DevIssuer(config).mint({ subject: 'bench', tenantId: tenant.id, expiresInSeconds: 3600 });
    const paths = orderIds.map((id) => `/v1/orders/${id}`);
    const scenarios: Array<{ name: string; url: string; headers: Record<string, string> }> = [
      { name: 'bare floor: GET order (node:http + pg)', url: bare.url, headers: { 'x-tenant': tenant.id } },
      { name: 'scoped GET /v1/orders/:id without the limiter', url: unlimited.url, headers: { Authorization: `Bearer ${token}` } },
      { name: 'scoped GET /v1/orders/:id with the limiter', url: limited.url, headers: { Authorization: `Bearer ${token}` } },
    ];
    for (const scenario of scenarios) await runLoad({ url: scenario.url, connections: 4, amount: 1000, headers: scenario.headers, paths });

    const runs = new Map<string, Measured[]>();
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order of the two APIs each round, so neither always follows the other.
      const order = round % 2 === 0 ? scenarios : [scenarios[0], scenarios[2], scenarios[1]];
      for (const scenario of order) {
        const cpu = process.cpuUsage();
        const result = await runLoad({ url: scenario.url, connections: CONNECTIONS, durationS: DURATION_S, headers: scenario.headers, paths });
        const used = process.cpuUsage(cpu);
        runs.set(scenario.name, [...(runs.get(scenario.name) ?? []), { ...result, cpuUs: (used.user + used.system) / Math.max(1, result.total) }]);
      }
    }
    // The limiter alone, called in this process as the guard calls it (16 at a time, like the
    // connections): its CPU time per call is what it adds to each request's.
    const limiter = limited.app.get(TenantRateLimiter);
    const CALLS = Math.max(2000, Math.round(20_000 * SCALE));
    const alone = process.cpuUsage();
    const started = process.hrtime.bigint();
    let issued = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (issued++ < CALLS) await limiter.take(tenant.id, 'free', 'read');
      }),
    );
    const aloneCpu = process.cpuUsage(alone);
    const aloneUs = (aloneCpu.user + aloneCpu.system) / CALLS;
    const aloneRate = CALLS / (Number(process.hrtime.bigint() - started) / 1e9);

    const middle = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const median = (name: string): Measured => {
      const sorted = [...(runs.get(name) ?? [])].sort((a, b) => a.rps - b.rps);
      return sorted[Math.floor(sorted.length / 2)];
    };
    const [floor, without, withLimiter] = scenarios.map((scenario) => median(scenario.name));
    // Each round's two APIs ran back to back: their ratio sees the same machine load, unlike
    // medians taken apart. The machine is shared, so the CPU time per response is the steadier figure.
    const withRuns = runs.get(scenarios[2].name) ?? [];
    const withoutRuns = runs.get(scenarios[1].name) ?? [];
    const throughputRatio = middle(withRuns.map((run, i) => run.rps / withoutRuns[i].rps));
    const cpuRatio = middle(withRuns.map((run, i) => run.cpuUs / withoutRuns[i].cpuUs));
    const rows = scenarios.map((scenario) => {
      const m = median(scenario.name);
      const all = (runs.get(scenario.name) ?? []).map((run) => Math.round(run.rps)).join(', ');
      const cpu = middle((runs.get(scenario.name) ?? []).map((run) => run.cpuUs));
      const apiCpu = scenario === scenarios[0] ? 'n/a (own process)' : cpu.toFixed(0);
      return `| ${scenario.name} | ${Math.round(m.rps)} | ${all} | ${m.p50.toFixed(1)} | ${m.p99.toFixed(1)} | ${apiCpu} | ${(m.rps / floor.rps).toFixed(2)}x | ${m.errors} |`;
    });
    const markdown = [
      `One free tenant, ${ORDERS} orders, reads by primary key over ${orderIds.length} ids; both APIs run in this process at once (the production ` +
        '`ApiModule`, and the same modules with no access stage after the tenant guard), loaded in turn by autocannon in a separate process, ' +
        `${CONNECTIONS} connections, ${DURATION_S} s per run, ${ROUNDS} interleaved rounds (median shown, every run listed); limits out of reach, so no request is refused. ` +
        `Local Redis; machine load average ${loadavg()[0].toFixed(1)} at the end (shared, so CPU time per request is steadier than req/s).`,
      '',
      '| route | req/s (median) | req/s (each round) | p50 ms | p99 ms | API CPU µs per request (median) | vs bare floor | errors |',
      '|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `With the limiter: **${throughputRatio.toFixed(3)}x** the throughput of the same API without it (median of the ${ROUNDS} back-to-back ratios; ` +
        `target >= 0.95x, a cost <= 5%), and **${cpuRatio.toFixed(3)}x** its CPU time per request (a cost of ${((cpuRatio - 1) * 100).toFixed(1)}%). ` +
        `Medians: ${Math.round(withLimiter.rps)} vs ${Math.round(without.rps)} req/s, p99 ${withLimiter.p99.toFixed(1)} vs ${without.p99.toFixed(1)} ms. ` +
        `The limiter alone (\`TenantRateLimiter.take\` for one busy tenant, ${CONNECTIONS} at a time: most calls admitted from a lease in process, one EVALSHA per lease): ${aloneUs.toFixed(1)} µs of CPU per call ` +
        `(${Math.round(aloneRate)} calls/s), **${((aloneUs / middle(withoutRuns.map((run) => run.cpuUs))) * 100).toFixed(1)}%** of the API's CPU time per request without it.`,
    ].join('\n');
    return { title: 'Rate limits: the scoped read with and without the per-tenant limiter', markdown };
  } finally {
    await bare.close();
    await unlimited.app.close();
    await limited.app.close();
  }
}

if (require.main === module) {
  rateLimitBench()
    .then((section) => process.stdout.write(`## ${section.title}\n\n${section.markdown}\n`))
    .catch((error) => {
      process.stderr.write(`${(error as Error).stack ?? error}\n`);
      process.exit(1);
    });
}

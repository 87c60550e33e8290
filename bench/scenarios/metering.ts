/**
 * Usage ingest on one API process: batches of 1,000 CloudEvents with 10% duplicates, from a load
 * process, against the bare floor doing the same log insert and rollups with no framework; the
 * totals are checked exact afterwards. Also the cost of the quota check on a metered write:
 * POST /v1/orders for a tenant whose plan caps orders against one whose plan has no quota (both
 * record the order's usage). Sizes scale with BENCH_SCALE.
 */
import { loadConfig } from '@bulkhead/config';
import { bootstrapDatabase, migrateDatabase } from '@bulkhead/database';
import { TenantAdmin, TenantRecord } from '@bulkhead/control-plane';
import { DevIssuer } from '@bulkhead/identity';
import { migrationSourcesFor } from '@bulkhead/tenancy';
import type { AddressInfo } from 'node:net';
import { ApiModule } from '../../apps/api/src/api.module';
import { createHttpApp } from '../../apps/api/src/http.setup';
import { DOMAINS } from '../../apps/domains';
import { BenchSection } from '../bench-section';
import { startBareIngestServer } from '../floor/bare-ingest-server';
import type { IngestPlan, IngestResult } from '../load/ingest-load';
import { runLoad, runLoadProcess } from '../load/run-load';

const SCALE = Number(process.env.BENCH_SCALE ?? '1') > 0 ? Number(process.env.BENCH_SCALE ?? '1') : 1;
const BATCHES = Math.max(20, Math.round(200 * SCALE));
const BATCH_SIZE = 1000;
const DUPLICATES = 0.1;
const CONNECTIONS = 8;
const TENANTS = 8;
const ROUNDS = 2;
const WRITE_ROUNDS = 3;
const WRITE_DURATION_S = Math.max(2, Math.round(6 * SCALE));
const TARGET_EVENTS_PER_S = 20_000;

const BENCH_RATE_LIMITS = 'read:6000000,write:6000000,export:6000000,ingest:6000000';

const BENCH_ENV: Record<string, string> = {
  DATABASE_URL: 'postgres://bulkhead_app:bulkhead_app@127.0.0.1:5432/bulkhead_bench_meter',
  DATABASE_OWNER_URL: 'postgres://bulkhead_owner:bulkhead_owner@127.0.0.1:5432/bulkhead_bench_meter',
  DEV_ISSUER: 'true',
  DEV_ISSUER_KEY_FILE: '.data/bench-issuer-key.json',
  LOG_LEVEL: 'warn',
  DATABASE_POOL_MAX: '10',
  // A cap no benchmark write reaches: the quota is checked on every write, never refused.
  METERING_PLANS: 'free:orders.created=100000000/month',
  // The rate limiter stays in the path, its limits out of reach (as in the other scenarios).
  RATE_LIMIT_FREE: BENCH_RATE_LIMITS,
  RATE_LIMIT_PRO: BENCH_RATE_LIMITS,
  RATE_LIMIT_ENTERPRISE: BENCH_RATE_LIMITS,
};

export async function meteringBench(): Promise<BenchSection> {
  Object.assign(process.env, BENCH_ENV);
  const config = loadConfig();
  await bootstrapDatabase({ adminUrl: config.DATABASE_ADMIN_URL, ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL }, { recreate: true });
  await migrateDatabase({ ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL, sources: migrationSourcesFor(DOMAINS) });
  const app = await createHttpApp(ApiModule, config, { docs: false });
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const bare = await startBareIngestServer(config.DATABASE_URL, config.DATABASE_POOL_MAX);
  const issuer = new DevIssuer(config);
  const admin = app.get(TenantAdmin);
  const stamp = Date.now().toString(36);
  const create = async (prefix: string, i: number, tier: 'free' | 'enterprise' = 'free'): Promise<TenantRecord> =>
    admin.create({ slug: `${prefix}-${i}-${stamp}`, name: `Bench ${prefix} ${i}`, tier, isolation: 'pool' });
  try {
    const apiTenants = await Promise.all(Array.from({ length: TENANTS }, (_, i) => create('meter', i)));
    const floorTenants = await Promise.all(Array.from({ length: TENANTS }, (_, i) => create('floor', i)));
    const token = (tenant: TenantRecord) => issuer.mint({ subject: 'bench', tenantId: tenant.id, expiresInSeconds: 3600 });
    const apiPlan = (batches: number): IngestPlan => ({
      url: base,
      tenants: apiTenants.map((t) => ({ id: t.id, headers: { authorization: `Bearer ${token(t)}` } })),
      batches,
      batchSize: BATCH_SIZE,
      duplicateShare: DUPLICATES,
      connections: CONNECTIONS,
    });
    const floorPlan = (batches: number): IngestPlan => ({ ...apiPlan(batches), url: bare.url, tenants: floorTenants.map((t) => ({ id: t.id, headers: { 'x-tenant': t.id } })) });
    const ingest = (plan: IngestPlan) => runLoadProcess<IngestResult>(require.resolve('../load/ingest-load'), plan);

    const expected = new Map<string, { unique: number; centis: number }>();
    const account = (result: IngestResult) => {
      for (const [id, sent] of Object.entries(result.sent)) {
        const total = expected.get(id) ?? { unique: 0, centis: 0 };
        expected.set(id, { unique: total.unique + sent.unique, centis: total.centis + sent.centis });
      }
    };
    // Warm both (JIT, pools, caches) before measuring.
    account(await ingest(apiPlan(16)));
    await ingest(floorPlan(16));
    const runs: Array<{ name: string; result: IngestResult }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      runs.push({ name: 'bare floor: node:http + pg, same statement', result: await ingest(floorPlan(BATCHES)) });
      const api = await ingest(apiPlan(BATCHES));
      account(api);
      runs.push({ name: 'POST /v1/usage/events (one API process)', result: api });
    }
    const best = (name: string) => runs.filter((r) => r.name === name).reduce((a, b) => (b.result.eventsPerSecond > a.result.eventsPerSecond ? b : a)).result;
    const floor = best('bare floor: node:http + pg, same statement');
    const apiBest = best('POST /v1/usage/events (one API process)');

    // Exact afterwards: every tenant's total equals the distinct events the load sent.
    let exact = 0;
    const from = new Date(Date.now() - 5 * 86_400_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    for (const tenant of apiTenants) {
      const response = await fetch(`${base}/v1/usage?meter=compute.seconds&from=${from}&to=${to}&granularity=day`, { headers: { authorization: `Bearer ${token(tenant)}` } });
      const { total } = (await response.json()) as { total: string };
      const want = expected.get(tenant.id) as { centis: number };
      if (Math.round(Number(total) * 100) !== want.centis) throw new Error(`metering bench: tenant ${tenant.slug} total ${total}, expected ${want.centis / 100}`);
      exact += 1;
    }
    const events = [...expected.values()].reduce((n, e) => n + e.unique, 0);

    // The quota check's cost on a metered write.
    const capped = await create('capped', 0, 'free');
    const uncapped = await create('uncapped', 0, 'enterprise');
    const customerOf = async (tenant: TenantRecord) => {
      const response = await fetch(`${base}/v1/customers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token(tenant)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Bench', email: `bench-${tenant.id}@bench.test` }),
      });
      return ((await response.json()) as { id: string }).id;
    };
    const writes = [
      { name: 'POST /v1/orders, plan without quota', tenant: uncapped },
      { name: 'POST /v1/orders, plan with an orders quota', tenant: capped },
    ];
    const writeLoads = await Promise.all(
      writes.map(async (w) => ({ ...w, headers: { Authorization: `Bearer ${token(w.tenant)}` }, body: JSON.stringify({ customerId: await customerOf(w.tenant), totalCents: 100, currency: 'EUR' }) })),
    );
    for (const w of writeLoads) await runLoad({ url: base, connections: 4, amount: 300, headers: w.headers, paths: ['/v1/orders'], method: 'POST', body: w.body });
    const writeResults = new Map<string, number[]>();
    // Three rounds, the order flipped each round, so neither variant always runs on a warmer or fuller database.
    for (let round = 0; round < WRITE_ROUNDS; round++) {
      for (const w of round % 2 === 0 ? writeLoads : [...writeLoads].reverse()) {
        const result = await runLoad({ url: base, connections: 16, durationS: WRITE_DURATION_S, headers: w.headers, paths: ['/v1/orders'], method: 'POST', body: w.body });
        writeResults.set(w.name, [...(writeResults.get(w.name) ?? []), result.rps]);
      }
    }
    const bestRps = (name: string) => Math.max(...(writeResults.get(name) as number[]));
    const quotaRatio = bestRps('POST /v1/orders, plan with an orders quota') / bestRps('POST /v1/orders, plan without quota');

    const rows = runs.map(
      ({ name, result }) =>
        `| ${name} | ${Math.round(result.eventsPerSecond)} | ${result.batchesPerSecond.toFixed(1)} | ${result.p50.toFixed(0)} | ${result.p99.toFixed(0)} | ${(result.eventsPerSecond / floor.eventsPerSecond).toFixed(2)}x | ${result.errors} |`,
    );
    const markdown = [
      `${BATCHES} batches of ${BATCH_SIZE} events per run (${Math.round(DUPLICATES * 100)}% duplicates of events already sent), round-robin over ${TENANTS} pool tenants, ` +
        `${CONNECTIONS} concurrent requests from a separate load process, ${ROUNDS} interleaved rounds; pool of ${config.DATABASE_POOL_MAX} connections. ` +
        'The bare floor (bench/floor/bare-ingest-server.ts) runs the same log insert and rollup statement in a transaction with the tenant set, as the runtime role with RLS on, with no framework, token or per-event checks.',
      '',
      '| run | events/s | batches/s | p50 ms | p99 ms | vs bare floor | errors |',
      '|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `Best API run: **${Math.round(apiBest.eventsPerSecond)} events/s** (target ${TARGET_EVENTS_PER_S}), ${(apiBest.eventsPerSecond / floor.eventsPerSecond).toFixed(2)}x of the bare floor. ` +
        `Totals exact afterwards: ${exact}/${TENANTS} tenants' sums equal the ${events} distinct events sent.`,
      '',
      '| metered write | req/s (best of rounds) |',
      '|---|---|',
      ...writes.map((w) => `| ${w.name} | ${Math.round(bestRps(w.name))} |`),
      '',
      `The quota check costs **${((1 - quotaRatio) * 100).toFixed(1)}%** of the metered write's throughput (ratio ${quotaRatio.toFixed(2)}; target: at most 5%).`,
    ].join('\n');
    return { title: 'Metering: usage ingest and the quota check', markdown };
  } finally {
    await bare.close();
    await app.close();
  }
}

if (require.main === module) {
  meteringBench()
    .then((section) => process.stdout.write(`## ${section.title}\n\n${section.markdown}\n`))
    .catch((error) => {
      process.stderr.write(`${(error as Error).stack ?? error}\n`);
      process.exit(1);
    });
}

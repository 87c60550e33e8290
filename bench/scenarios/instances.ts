/**
 * Many instances: the scoped list served by one API process against the same load spread over two
 * API processes on the same database and Redis, with the bare floor (one process, no framework)
 * beside them. On one 2-core machine the second process shares the cores with the first and with
 * PostgreSQL, so the ratio says what a second instance adds here, not what it adds on its own host.
 */
import { loadConfig } from '@bulkhead/config';
import { bootstrapDatabase, migrateDatabase, withDatabase, withPg } from '@bulkhead/database';
import { DevIssuer } from '@bulkhead/identity';
import { migrationSourcesFor } from '@bulkhead/tenancy';
import { ChildProcess } from 'node:child_process';
import { DOMAINS } from '../../apps/domains';
import { BenchSection } from '../bench-section';
import { startBareServer } from '../floor/bare-server';
import { LoadResult } from '../load/autocannon-runner';
import { benchApiEnv, startBenchApi, stopBenchApis } from '../load/api-process';
import { runLoad } from '../load/run-load';

const SCALE = Number(process.env.BENCH_SCALE ?? '1') > 0 ? Number(process.env.BENCH_SCALE ?? '1') : 1;
const DURATION_S = Math.max(2, Math.round(6 * SCALE));
const ROUNDS = 3;
const CONNECTIONS = 16;
const TENANTS = 8;
const ORDERS_PER_TENANT = 200;
const DB = 'bulkhead_bench_instances';

const ENV: Record<string, string> = {
  ...benchApiEnv(DB),
  METRICS_ENABLED: 'false',
  TRACING_ENABLED: 'false',
};

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** The same load over several servers at once, the connections split evenly, each server's load from its own process. */
async function loadOver(urls: string[], headerSets: Array<Record<string, string>>): Promise<Measured> {
  const paths = ['/v1/orders?limit=20'];
  const results: LoadResult[] = await Promise.all(
    urls.map((url) => runLoad({ url, connections: CONNECTIONS / urls.length, durationS: DURATION_S, headers: {}, paths, headerSets })),
  );
  return {
    rps: results.reduce((sum, r) => sum + r.rps, 0),
    p50: Math.max(...results.map((r) => r.p50)),
    p99: Math.max(...results.map((r) => r.p99)),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
  };
}

export async function instancesBench(): Promise<BenchSection> {
  const saved = Object.fromEntries(Object.keys(ENV).map((key) => [key, process.env[key]]));
  Object.assign(process.env, ENV);
  const children: ChildProcess[] = [];
  try {
    const config = loadConfig();
    await bootstrapDatabase({ adminUrl: config.DATABASE_ADMIN_URL, ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL }, { recreate: true });
    await migrateDatabase({ ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL, sources: migrationSourcesFor(DOMAINS) });
    const [one, first, second] = await Promise.all([startBenchApi(ENV, children), startBenchApi(ENV, children), startBenchApi(ENV, children)]);
    const bare = await startBareServer(config.DATABASE_URL, config.DATABASE_POOL_MAX);
    try {
      const issuer = new DevIssuer(config);
      const operator = issuer.mint({ subject: 'bench', scopes: [config.AUTH_OPERATOR_SCOPE], expiresInSeconds: 3600 });
      const tenantIds: string[] = [];
      for (let i = 0; i < TENANTS; i++) {
        const created = await fetch(`${one.url}/v1/admin/tenants`, {
          method: 'POST',
          headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
          body: JSON.stringify({ slug: `inst-${i}-${Date.now().toString(36)}`, name: `Instances ${i}`, tier: 'pro', isolation: 'pool' }),
        });
        if (created.status !== 201) throw new Error(`creating a bench tenant answered ${created.status}`);
        tenantIds.push(((await created.json()) as { id: string }).id);
      }
      await withPg(withDatabase(config.DATABASE_ADMIN_URL, DB), 'bench-seed', async (client) => {
        for (const tenantId of tenantIds) {
          await client.query(`INSERT INTO customers (tenant_id, id, email, name) VALUES ($1, gen_random_uuid(), 'c@bench.test', 'C')`, [tenantId]);
          await client.query(
            `INSERT INTO orders (tenant_id, id, customer_id, status, total_cents, currency)
               SELECT $1, gen_random_uuid(), (SELECT id FROM customers WHERE tenant_id = $1 LIMIT 1), 'paid', g, 'EUR' FROM generate_series(1, ${ORDERS_PER_TENANT}) g`,
            [tenantId],
          );
        }
        await client.query('ANALYZE orders');
      });
      const tokens = tenantIds.map((tenantId) => ({ authorization: `Bearer ${issuer.mint({ subject: 'bench', tenantId, expiresInSeconds: 3600 })}` }));
      const tenantHeaders = tenantIds.map((tenantId) => ({ 'x-tenant': tenantId }));
      const runs = [
        { name: 'bare floor: list 20 orders (node:http + pg, one process)', measure: () => loadOver([bare.url], tenantHeaders) },
        { name: 'GET /v1/orders (list 20), one API process', measure: () => loadOver([one.url], tokens) },
        { name: 'GET /v1/orders (list 20), two API processes', measure: () => loadOver([first.url, second.url], tokens) },
      ];
      // Warm-up: JIT, registry caches and pools of every server.
      for (const url of [bare.url, one.url, first.url, second.url]) {
        await runLoad({ url, connections: 4, amount: 2000, headers: {}, paths: ['/v1/orders?limit=20'], headerSets: url === bare.url ? tenantHeaders : tokens });
      }
      const best = new Map<string, Measured>();
      const all = new Map<string, number[]>();
      let errors = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? runs : [...runs].reverse();
        for (const run of order) {
          const measured = await run.measure();
          errors += measured.errors;
          all.set(run.name, [...(all.get(run.name) ?? []), Math.round(measured.rps)]);
          if (!best.has(run.name) || measured.rps > (best.get(run.name) as Measured).rps) best.set(run.name, measured);
        }
      }
      const floor = best.get(runs[0].name) as Measured;
      const single = best.get(runs[1].name) as Measured;
      const pair = best.get(runs[2].name) as Measured;
      const markdown = [
        `${TENANTS} pro pool tenants x ${ORDERS_PER_TENANT} orders; \`GET /v1/orders?limit=20\`, one token per tenant taken in turn; the API processes started as \`npm run start:api\` starts them ` +
          `(metrics and tracing off, limits out of reach), on one database and one Redis, DATABASE_POOL_MAX=10 each; ${CONNECTIONS} connections in all, from autocannon in separate processes ` +
          `(two processes: ${CONNECTIONS / 2} connections each, one load process per API, run at once, req/s summed, latency the worse of the two), ${DURATION_S} s per run, best of ${ROUNDS} interleaved rounds. ` +
          'The bare floor (bench/floor/bare-server.ts, in the bench process) does the same scoped list with no framework. All on this one 2-core machine: the second API process shares the cores ' +
          'with the first, PostgreSQL and the load, so the ratio says what a second instance adds on a machine that is already full, not what one adds on its own host.',
        '',
        '| run | req/s (best) | all rounds | p50 ms | p99 ms | errors |',
        '|---|---|---|---|---|---|',
        ...runs.map((run) => {
          const m = best.get(run.name) as Measured;
          return `| ${run.name} | ${Math.round(m.rps)} | ${(all.get(run.name) ?? []).join(', ')} | ${m.p50.toFixed(1)} | ${m.p99.toFixed(1)} | ${m.errors} |`;
        }),
        '',
        `Two API processes serve **${(pair.rps / single.rps).toFixed(2)}x** the throughput of one (one process at ${(single.rps / floor.rps).toFixed(2)}x of the bare floor, two at ${(pair.rps / floor.rps).toFixed(2)}x); ${errors} errors over all rounds.`,
      ].join('\n');
      return { title: 'Many instances: one API process against two', markdown };
    } finally {
      await bare.close();
    }
  } finally {
    await stopBenchApis(children);
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

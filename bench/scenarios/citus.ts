/**
 * The scoped read on a Citus coordinator with two workers against single-node PostgreSQL, side
 * by side in one run on one machine: the same API (ApiModule), the same data, the same tenant,
 * alternating rounds. Runs only when BULKHEAD_TEST_CITUS_URL (and BULKHEAD_TEST_CITUS_WORKERS)
 * name a cluster (docs/citus.md). One machine cannot show what Citus is for: its workers share
 * these cores with the coordinator, so every read pays an extra hop and gains no capacity.
 */
import { BulkheadConfig, loadConfig } from '@bulkhead/config';
import { TenantAdmin } from '@bulkhead/control-plane';
import { bootstrapDatabase, migrateDatabase, withDatabase, withPg } from '@bulkhead/database';
import { DevIssuer } from '@bulkhead/identity';
import { migrationSourcesFor } from '@bulkhead/tenancy';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { ApiModule } from '../../apps/api/src/api.module';
import { createHttpApp } from '../../apps/api/src/http.setup';
import { DOMAINS } from '../../apps/domains';
import { BenchSection } from '../bench-section';
import { CitusCluster, citusClusterFromEnv, recreateCitusDatabase } from '../citus/citus-cluster';
import { runLoad } from '../load/run-load';

const SCALE = Number(process.env.BENCH_SCALE ?? '1') > 0 ? Number(process.env.BENCH_SCALE ?? '1') : 1;
const DURATION_S = Math.max(2, Math.round(6 * SCALE));
const ROUNDS = 3;
const CONNECTIONS = 16;
const TENANTS = 20;
const CUSTOMERS = 20;
const ORDERS_PER_TENANT = Math.max(100, Math.round(1000 * SCALE));
const DATABASE = 'bulkhead_bench_ct';
const UNLIMITED = 'read:6000000,write:6000000,export:6000000,ingest:6000000';

const BENCH_ENV: Record<string, string> = {
  DEV_ISSUER: 'true',
  DEV_ISSUER_KEY_FILE: '.data/bench-issuer-key.json',
  LOG_LEVEL: 'warn',
  TENANT_CACHE_TTL_MS: '1000',
  DATABASE_POOL_MAX: '10',
  RATE_LIMIT_FREE: UNLIMITED,
  RATE_LIMIT_PRO: UNLIMITED,
  RATE_LIMIT_ENTERPRISE: UNLIMITED,
  METERING_PLANS: 'free:;pro:;enterprise:',
};

interface Engine {
  name: string;
  config: BulkheadConfig;
  app: NestFastifyApplication;
  url: string;
  token: string;
  paths: string[];
}

function urlsOn(server: string, adminUrl: string) {
  return {
    adminUrl,
    ownerUrl: `postgres://bulkhead_owner:bulkhead_owner@${server}/${DATABASE}`,
    runtimeUrl: `postgres://bulkhead_app:bulkhead_app@${server}/${DATABASE}`,
  };
}

/** Builds the database, starts the API on it, seeds the same shape of data. */
async function start(name: string, urls: ReturnType<typeof urlsOn>, citus?: CitusCluster): Promise<Engine> {
  if (citus) await recreateCitusDatabase(citus, urls);
  else await bootstrapDatabase(urls, { recreate: true });
  await migrateDatabase({ ownerUrl: urls.ownerUrl, runtimeUrl: urls.runtimeUrl, sources: migrationSourcesFor(DOMAINS) });
  // The API reads its settings from the environment when its modules start.
  Object.assign(process.env, BENCH_ENV, { DATABASE_URL: urls.runtimeUrl, DATABASE_OWNER_URL: urls.ownerUrl, DATABASE_ADMIN_URL: urls.adminUrl });
  const config = loadConfig();
  const app = await createHttpApp(ApiModule, config, { docs: false });
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const admin = app.get(TenantAdmin);
  const superuser = withDatabase(urls.adminUrl, DATABASE);
  let target = '';
  for (let i = 0; i < TENANTS; i++) {
    const tenant = await admin.create({ slug: `ct-${i}-${Date.now().toString(36)}`, name: `Citus bench ${i}`, tier: 'free' });
    if (i === Math.floor(TENANTS / 2)) target = tenant.id;
    // Bulk rows through a superuser: RLS would (rightly) refuse an owner writing without a tenant.
    await withPg(superuser, 'bench-seed', async (client) => {
      const customers = await client.query<{ id: string }>(
        `INSERT INTO customers (tenant_id, id, email, name)
           SELECT $1, gen_random_uuid(), 'c' || g || '@bench.test', 'Customer ' || g FROM generate_series(1, ${CUSTOMERS}) g RETURNING id`,
        [tenant.id],
      );
      await client.query(
        `INSERT INTO orders (tenant_id, id, customer_id, status, total_cents, currency)
           SELECT $1, gen_random_uuid(), ($2::uuid[])[1 + g % ${CUSTOMERS}], 'paid', (g * 37) % 10000, 'EUR' FROM generate_series(1, $3::int) g`,
        [tenant.id, customers.rows.map((row) => row.id), ORDERS_PER_TENANT],
      );
    });
  }
  const ids = await withPg(superuser, 'bench-seed', async (client) => {
    await client.query('ANALYZE customers');
    await client.query('ANALYZE orders');
    return (await client.query<{ id: string }>('SELECT id FROM orders WHERE tenant_id = $1 ORDER BY id LIMIT 200', [target])).rows.map((row) => row.id);
  });
  const token = new DevIssuer(config).mint({ subject: 'bench', tenantId: target, expiresInSeconds: 3600 });
  return { name, config, app, url, token, paths: ids.map((id) => `/v1/orders/${id}`) };
}

export async function citusBench(): Promise<BenchSection> {
  const citus = citusClusterFromEnv();
  if (!citus) throw new Error('The citus scenario needs BULKHEAD_TEST_CITUS_URL and BULKHEAD_TEST_CITUS_WORKERS (docs/citus.md)');
  const coordinator = new URL(citus.adminUrl).host;
  const postgresAdmin = process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
  const engines: Engine[] = [];
  try {
    engines.push(await start('PostgreSQL 15, single node', urlsOn(new URL(postgresAdmin).host, postgresAdmin)));
    engines.push(await start(`Citus 13, coordinator + ${citus.workers.length} workers`, urlsOn(coordinator, citus.adminUrl), citus));
    type Case = { label: string; engine: Engine; paths: (engine: Engine) => string[] };
    const cases: Case[] = engines.flatMap((engine) => [
      { label: `${engine.name}: GET /v1/orders/:id`, engine, paths: (e: Engine) => e.paths },
      { label: `${engine.name}: GET /v1/orders (list 20)`, engine, paths: () => ['/v1/orders'] },
    ]);
    for (const c of cases) await runLoad({ url: c.engine.url, connections: 4, amount: 500, headers: { Authorization: `Bearer ${c.engine.token}` }, paths: c.paths(c.engine) });
    const best = new Map<string, { rps: number; p50: number; p99: number; errors: number }>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of cases) {
        const result = await runLoad({ url: c.engine.url, connections: CONNECTIONS, durationS: DURATION_S, headers: { Authorization: `Bearer ${c.engine.token}` }, paths: c.paths(c.engine) });
        const previous = best.get(c.label);
        const errors = (previous?.errors ?? 0) + result.errors;
        best.set(c.label, !previous || result.rps > previous.rps ? { ...result, errors } : { ...previous, errors });
      }
    }
    const row = (label: string) => {
      const m = best.get(label) as { rps: number; p50: number; p99: number; errors: number };
      const baseline = best.get(label.replace(/^[^:]+/, engines[0].name)) as { rps: number };
      return `| ${label} | ${Math.round(m.rps)} | ${m.p50.toFixed(1)} | ${m.p99.toFixed(1)} | ${(m.rps / baseline.rps).toFixed(2)}x | ${m.errors} |`;
    };
    const ratio = (route: string) => ((best.get(`${engines[1].name}: ${route}`)?.rps ?? 0) / (best.get(`${engines[0].name}: ${route}`)?.rps ?? 1)).toFixed(2);
    const markdown = [
      `${TENANTS} pool tenants x ${ORDERS_PER_TENANT} orders on each engine; reads of one tenant by primary key over 200 ids, and its first page of 20; ` +
        `the production API (one process per engine, both in this process, measured in turn), autocannon in a separate process, ${CONNECTIONS} connections, ` +
        `${DURATION_S} s per run, best of ${ROUNDS} interleaved rounds; pool of ${engines[0].config.DATABASE_POOL_MAX} connections. ` +
        'On Citus the tables are distributed by tenant_id (32 shards over the workers) and each read sets the tenant with bulkhead_set_tenant, propagated to the worker; ' +
        'on PostgreSQL with set_config in the same message. All nodes run on this one 2-core machine.',
      '',
      '| route | req/s | p50 ms | p99 ms | vs PostgreSQL | errors |',
      '|---|---|---|---|---|---|',
      ...cases.map((c) => row(c.label)),
      '',
      `Citus serves the scoped by-id read at **${ratio('GET /v1/orders/:id')}x** and the list at **${ratio('GET /v1/orders (list 20)')}x** of single-node PostgreSQL here. ` +
        'That is the price of the extra hop (API -> coordinator -> worker) with every node on the same two cores; one machine cannot show what Citus adds ' +
        '(more cores, memory and disks per shard as workers are added, a big tenant on its own node). Measure that on real nodes.',
    ].join('\n');
    return { title: 'Citus: the scoped read on a coordinator with workers vs single-node PostgreSQL', markdown };
  } finally {
    for (const engine of engines) await engine.app.close();
  }
}

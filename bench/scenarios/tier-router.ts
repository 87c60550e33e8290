/**
 * The tier router at fleet sizes, in one process against its own database (bulkhead_routerbench,
 * recreated every run together with its silo databases):
 *  1. routing overhead: GET /v1/orders/:id (and the list route) for a pool, a schema and a silo
 *     tenant side by side, against an unscoped control;
 *  2. the registry with 100,000 tenants: TenantRegistry.resolveClaim cold (one query) and cached;
 *  3. a fleet migration over 1,000 schema and 50 silo tenants, re-applying the latest tenant
 *     migration after it was taken back out of every placement;
 *  4. silo churn: 500 silo tenants served round-robin under DATABASE_CONNECTION_BUDGET=80 on a
 *     server with max_connections = 100, with the silo connections sampled from pg_stat_activity.
 * Sizes scale with BENCH_SCALE (BENCH_SCALE=0.05 is a quick smoke run).
 */
import { BulkheadConfig, loadConfig } from '@bulkhead/config';
import { FleetMigrator, FleetTenantReport, SiloDataSources, TenantAdmin, TenantRecord, TenantRegistry } from '@bulkhead/control-plane';
import { bootstrapDatabase, connectPg, migrateDatabase, migrationLabel, withDatabase, withPg } from '@bulkhead/database';
import { DevIssuer } from '@bulkhead/identity';
import { migrationSourcesFor } from '@bulkhead/tenancy';
import { DOMAINS } from '../../apps/domains';
import { INestApplication } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import autocannon from 'autocannon';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { ApiModule } from '../../apps/api/src/api.module';
import { createHttpApp } from '../../apps/api/src/http.setup';
import { BenchSection } from '../bench-section';
import { inLanes, latestMigrationUndo, percentile, seconds, seedOrders } from '../tier-router/support';
import { TierRouterBenchModule } from '../tier-router/tier-router.bench-module';

const RAW_SCALE = Number(process.env.BENCH_SCALE ?? '1');
const SCALE = RAW_SCALE > 0 ? RAW_SCALE : 1;
const DATABASE = 'bulkhead_routerbench';

// 1. Routing overhead.
const DURATION_S = Math.max(2, Math.round(6 * SCALE));
const ROUNDS = 3;
const CONNECTIONS = 16;
const ORDERS_PER_TENANT = Math.max(100, Math.round(2000 * SCALE));
// 2. Registry.
const REGISTRY_TENANTS = Math.max(1000, Math.round(100_000 * SCALE));
const LOOKUPS = Math.min(REGISTRY_TENANTS, Math.max(1000, Math.round(20_000 * SCALE)));
/** Hot set for cached lookups: inside the registry's 10,000-entry LRU. */
const HOT_SET = Math.min(LOOKUPS, 5000);
// 3. Fleet.
const FLEET_SCHEMAS = Math.max(10, Math.round(1000 * SCALE));
const FLEET_SILOS = Math.max(2, Math.round(50 * SCALE));
const PROVISION_LANES = 8;
const FLEET_CONCURRENCY = 8;
// 4. Silo churn. At least 40 silos even in a smoke run, so they outnumber the 30 pools that fit.
const CHURN_SILOS = Math.max(40, Math.round(500 * SCALE));
const CHURN_DURATION_S = Math.max(3, Math.round(20 * SCALE));
const CHURN_CONNECTIONS = 16;
const BUDGET = 80;
const CHURN_POOL_MAX = 20;
const CHURN_SILO_POOL_MAX = 2;

const BENCH_RATE_LIMITS = 'read:6000000,write:6000000,export:6000000,ingest:6000000';

const BASE_ENV: Record<string, string> = {
  DATABASE_URL: `postgres://bulkhead_app:bulkhead_app@127.0.0.1:5432/${DATABASE}`,
  DATABASE_OWNER_URL: `postgres://bulkhead_owner:bulkhead_owner@127.0.0.1:5432/${DATABASE}`,
  DEV_ISSUER: 'true',
  DEV_ISSUER_KEY_FILE: '.data/routerbench-issuer-key.json',
  LOG_LEVEL: 'warn',
  DATABASE_CONNECTION_BUDGET: String(BUDGET),
  // The limiter runs (it is part of the request path) but never refuses: this measures routing, not quotas.
  RATE_LIMIT_FREE: BENCH_RATE_LIMITS,
  RATE_LIMIT_PRO: BENCH_RATE_LIMITS,
  RATE_LIMIT_ENTERPRISE: BENCH_RATE_LIMITS,
};

/**
 * Phases 1-3: the shared pool and a silo pool are the same size (20), the per-tenant cap (16)
 * equals the load's concurrency so no model queues in the tenant gate, and 16 in flight on 20
 * connections stays under the 0.85 shedding threshold. A long registry TTL keeps the cached
 * measurement of phase 2 cached for its whole duration.
 */
const ROUTING_ENV: Record<string, string> = {
  DATABASE_POOL_MAX: '20',
  SILO_POOL_MAX: '20',
  TENANT_MAX_CONNECTIONS: String(CONNECTIONS),
  TENANT_CACHE_TTL_MS: '60000',
  // The step-1 silo's pool must not close as idle between its rounds.
  SILO_IDLE_MS: '600000',
};

/** Phase 4: production-like churn settings under the budget. */
const CHURN_ENV: Record<string, string> = {
  DATABASE_POOL_MAX: String(CHURN_POOL_MAX),
  SILO_POOL_MAX: String(CHURN_SILO_POOL_MAX),
  // Two units per tenant on a two-connection silo pool: the second sees 1/2 busy, under 0.85.
  TENANT_MAX_CONNECTIONS: String(CHURN_SILO_POOL_MAX),
  TENANT_CACHE_TTL_MS: '1000',
  SILO_IDLE_MS: '60000',
};

interface Measured {
  name: string;
  model: 'control' | 'pool' | 'schema' | 'silo';
  kind: 'get' | 'list';
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const log = (message: string) => process.stderr.write(`tier-router: ${message}\n`);

async function startApp(module: unknown, config: BulkheadConfig): Promise<{ app: NestFastifyApplication; base: string }> {
  const app = await createHttpApp(module as never, config, { docs: false });
  await app.listen(0, '127.0.0.1');
  return { app, base: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}` };
}

function superuserUrl(config: BulkheadConfig, database = DATABASE): string {
  return withDatabase(config.DATABASE_ADMIN_URL, database);
}

function slug(prefix: string, i: number): string {
  return `${prefix}-${i}-${Date.now().toString(36)}`;
}

// ---------------------------------------------------------------------------------------------
// 1. Routing overhead

async function routingOverhead(app: INestApplication, base: string, config: BulkheadConfig): Promise<string> {
  const admin = app.get(TenantAdmin);
  const pool = await admin.create({ slug: slug('rt-pool', 0), name: 'Router pool', tier: 'free', isolation: 'pool' });
  const schema = await admin.create({ slug: slug('rt-schema', 0), name: 'Router schema', tier: 'pro', isolation: 'schema' });
  const silo = await admin.create({ slug: slug('rt-silo', 0), name: 'Router silo', tier: 'enterprise', isolation: 'silo' });
  const ids = {
    pool: await withPg(superuserUrl(config), 'routerbench-seed', (c) => seedOrders(c, 'public', pool.id, ORDERS_PER_TENANT)),
    schema: await withPg(superuserUrl(config), 'routerbench-seed', (c) => seedOrders(c, schema.schemaName as string, schema.id, ORDERS_PER_TENANT)),
    silo: await withPg(superuserUrl(config, silo.databaseName as string), 'routerbench-seed', (c) => seedOrders(c, 'public', silo.id, ORDERS_PER_TENANT)),
  };
  const issuer = new DevIssuer(config);
  const auth = (tenant: TenantRecord) => ({ Authorization: `Bearer ${issuer.mint({ subject: 'bench', tenantId: tenant.id, expiresInSeconds: 3600 })}` });
  const scenarios: Array<Omit<Measured, 'rps' | 'p50' | 'p99' | 'non2xx' | 'errors'> & { paths: string[]; headers: Record<string, string> }> = [
    { name: 'control: GET order (no guard, no router, no RLS)', model: 'control', kind: 'get', paths: ids.pool.map((id) => `/bench/control/orders/${id}?tenant=${pool.id}`), headers: {} },
    { name: 'pool: GET /v1/orders/:id', model: 'pool', kind: 'get', paths: ids.pool.map((id) => `/v1/orders/${id}`), headers: auth(pool) },
    { name: 'schema: GET /v1/orders/:id', model: 'schema', kind: 'get', paths: ids.schema.map((id) => `/v1/orders/${id}`), headers: auth(schema) },
    { name: 'silo: GET /v1/orders/:id', model: 'silo', kind: 'get', paths: ids.silo.map((id) => `/v1/orders/${id}`), headers: auth(silo) },
    { name: 'control: list 20 orders', model: 'control', kind: 'list', paths: [`/bench/control/orders?tenant=${pool.id}`], headers: {} },
    { name: 'pool: GET /v1/orders (list 20)', model: 'pool', kind: 'list', paths: ['/v1/orders'], headers: auth(pool) },
    { name: 'schema: GET /v1/orders (list 20)', model: 'schema', kind: 'list', paths: ['/v1/orders'], headers: auth(schema) },
    { name: 'silo: GET /v1/orders (list 20)', model: 'silo', kind: 'list', paths: ['/v1/orders'], headers: auth(silo) },
  ];
  // Recreating the database and its silos leaves a burst of writes behind: flush it before measuring.
  await withPg(superuserUrl(config), 'routerbench-seed', (c) => c.query('CHECKPOINT'));
  log(`routing: ${scenarios.length} routes x ${ROUNDS} rounds x ${DURATION_S}s`);
  for (const scenario of scenarios) {
    const warm = await autocannon({ url: base + scenario.paths[0], connections: 4, amount: 500, headers: scenario.headers });
    if (warm.non2xx || warm.errors) throw new Error(`warm-up of "${scenario.name}" failed: ${warm.non2xx} non-2xx, ${warm.errors} errors`);
  }
  const runs = new Map<string, Measured[]>();
  for (let round = 0; round < ROUNDS; round++) {
    // Each round starts at a different route, so a slow patch of the shared machine hits different routes.
    const order = scenarios.map((_, i) => scenarios[(i + round * 3) % scenarios.length]);
    for (const scenario of order) {
      let next = 0;
      const result = await autocannon({
        url: base,
        connections: CONNECTIONS,
        duration: DURATION_S,
        headers: scenario.headers,
        requests: [{ setupRequest: (request) => ({ ...request, path: scenario.paths[next++ % scenario.paths.length] }) }],
      });
      const measured: Measured = {
        name: scenario.name,
        model: scenario.model,
        kind: scenario.kind,
        rps: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        non2xx: result.non2xx,
        errors: result.errors + result.timeouts,
      };
      runs.set(scenario.name, [...(runs.get(scenario.name) ?? []), measured]);
    }
  }
  // Best run by throughput, but non-2xx and errors summed over every run so none hides.
  const best = scenarios.map((scenario) => {
    const all = runs.get(scenario.name) ?? [];
    const top = all.reduce((a, b) => (b.rps > a.rps ? b : a));
    return { ...top, non2xx: all.reduce((n, m) => n + m.non2xx, 0), errors: all.reduce((n, m) => n + m.errors, 0) };
  });
  const find = (model: Measured['model'], kind: Measured['kind']) => best.find((m) => m.model === model && m.kind === kind) as Measured;
  const rows = best.map((m) => {
    const control = find('control', m.kind);
    const poolRun = find('pool', m.kind);
    const vsPool = m.model === 'control' ? '' : `${(m.rps / poolRun.rps).toFixed(2)}x`;
    return `| ${m.name} | ${Math.round(m.rps)} | ${fmt(m.p50)} | ${fmt(m.p99)} | ${(m.rps / control.rps).toFixed(2)}x | ${vsPool} | ${m.non2xx} | ${m.errors} |`;
  });
  const verdict = (model: 'schema' | 'silo', kind: 'get' | 'list') => {
    const ratio = find(model, kind).rps / find('pool', kind).rps;
    return `${model} ${kind} ${ratio.toFixed(2)}x ${ratio >= 0.9 ? '(within 10%)' : '(**misses** the 10% target)'}`;
  };
  const non2xx = best.reduce((n, m) => n + m.non2xx + m.errors, 0);
  return [
    '### 1. Routing overhead: pool vs schema vs silo',
    '',
    `One tenant of each model with ${ORDERS_PER_TENANT} orders; reads by primary key over 200 ids of the tenant; ` +
      `autocannon in the same process, ${CONNECTIONS} connections, ${DURATION_S} s per run, best of ${ROUNDS} interleaved rounds (each starting at a different route, after a CHECKPOINT). ` +
      `Shared pool and the silo's pool both ${config.DATABASE_POOL_MAX} connections (SILO_POOL_MAX=${config.SILO_POOL_MAX}), ` +
      `TENANT_MAX_CONNECTIONS=${config.TENANT_MAX_CONNECTIONS} so no model queues in the tenant gate ` +
      `(${CONNECTIONS} in flight, within the ${config.DATABASE_POOL_MAX}-connection pool). The control reads the pool tenant's rows through a superuser pool with no guard, registry, router or tenant settings.`,
    '',
    '| route | req/s | p50 ms | p99 ms | vs control | vs pool | non-2xx | errors |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Against the pool model (target: within 10%): ${verdict('schema', 'get')}, ${verdict('silo', 'get')}, ${verdict('schema', 'list')}, ${verdict('silo', 'list')}. ` +
      (non2xx === 0 ? 'No non-2xx responses or errors in any run.' : `**${non2xx} non-2xx responses or errors** (summed over all runs, see table).`),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 2. Registry with 100,000 tenants

async function registryLookups(app: INestApplication, config: BulkheadConfig): Promise<string> {
  log(`registry: inserting ${REGISTRY_TENANTS} tenants`);
  const insertStart = process.hrtime.bigint();
  await withPg(config.DATABASE_OWNER_URL, 'routerbench-registry', async (owner) => {
    await owner.query(
      `INSERT INTO tenants (id, slug, name, tier, isolation, status, region, cluster, data_version)
         SELECT gen_random_uuid(), 'reg-' || g, 'Registry tenant ' || g, 'free', 'pool', 'active', $2, 'main', 0
           FROM generate_series(1, $1::int) g`,
      [REGISTRY_TENANTS, config.REGION],
    );
    await owner.query('ANALYZE tenants');
  });
  const insertSeconds = seconds(insertStart);
  const ids = await withPg(config.DATABASE_OWNER_URL, 'routerbench-registry', async (owner) => {
    const total = await owner.query<{ n: number }>('SELECT count(*)::int AS n FROM tenants');
    const rows = await owner.query<{ id: string }>("SELECT id FROM tenants WHERE slug LIKE 'reg-%' ORDER BY random() LIMIT $1", [LOOKUPS]);
    return { total: total.rows[0].n, ids: rows.rows.map((row) => row.id) };
  });
  const registry = app.get(TenantRegistry);
  const time = async (id: string): Promise<number> => {
    const start = process.hrtime.bigint();
    const found = await registry.resolveClaim(id);
    const elapsed = Number(process.hrtime.bigint() - start) / 1e3;
    if (!found || found.id !== id) throw new Error(`registry lookup of ${id} returned ${found?.id}`);
    return elapsed;
  };
  log(`registry: ${ids.ids.length} cold lookups, then ${LOOKUPS} cached over ${HOT_SET}`);
  // Cold: every id is looked up for the first time, so each is a cache miss and one query.
  const cold: number[] = [];
  const coldStart = process.hrtime.bigint();
  for (const id of ids.ids) cold.push(await time(id));
  const coldSeconds = seconds(coldStart);
  // Cached: the hot set was the last HOT_SET ids looked up cold, still in the LRU and inside the TTL.
  const hot = ids.ids.slice(-HOT_SET);
  const cached: number[] = [];
  const cachedStart = process.hrtime.bigint();
  for (let i = 0; i < LOOKUPS; i++) cached.push(await time(hot[Math.floor(Math.random() * hot.length)]));
  const cachedSeconds = seconds(cachedStart);
  // Unknown ids are cached too (negative cache): one query, then none.
  const us = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(2)} ms` : `${n.toFixed(1)} µs`);
  return [
    '### 2. Tenant registry with a large fleet',
    '',
    `${ids.total.toLocaleString('en-US')} tenants in the registry (${REGISTRY_TENANTS.toLocaleString('en-US')} pool tenants bulk-inserted in ${insertSeconds.toFixed(1)} s with one INSERT ... SELECT generate_series as the owner). ` +
      `TenantRegistry.resolveClaim timed in-process, one lookup at a time, TENANT_CACHE_TTL_MS=${config.TENANT_CACHE_TTL_MS} (LRU of 10,000 entries). ` +
      `Cold: ${cold.length.toLocaleString('en-US')} distinct random tenants, each looked up for the first time (cache miss: one primary-key query through the shared pool). ` +
      `Cached: ${LOOKUPS.toLocaleString('en-US')} random lookups over ${HOT_SET.toLocaleString('en-US')} tenants already in the cache.`,
    '',
    '| lookup | count | p50 | p99 | max | lookups/s (sequential) |',
    '|---|---|---|---|---|---|',
    `| cold (cache miss, one query) | ${cold.length} | ${us(percentile(cold, 50))} | ${us(percentile(cold, 99))} | ${us(Math.max(...cold))} | ${Math.round(cold.length / coldSeconds)} |`,
    `| cached (in-process LRU) | ${cached.length} | ${us(percentile(cached, 50))} | ${us(percentile(cached, 99))} | ${us(Math.max(...cached))} | ${Math.round(cached.length / cachedSeconds)} |`,
    '',
    `A cached lookup is **${(percentile(cold, 50) / percentile(cached, 50)).toFixed(0)}x** cheaper than a miss at the median; the miss cost is one index probe on a ${ids.total.toLocaleString('en-US')}-row table.`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 3. Fleet migration

async function provisionMany(admin: TenantAdmin, count: number, isolation: 'schema' | 'silo', prefix: string): Promise<{ tenants: TenantRecord[]; seconds: number }> {
  const start = process.hrtime.bigint();
  const tenants = await inLanes(Array.from({ length: count }, (_, i) => i), PROVISION_LANES, (i) =>
    admin.create({ slug: slug(prefix, i), name: `${prefix} ${i}`, tier: isolation === 'schema' ? 'pro' : 'enterprise', isolation }),
  );
  for (const tenant of tenants) if (tenant.status !== 'active') throw new Error(`tenant ${tenant.slug} was left ${tenant.status}`);
  return { tenants, seconds: seconds(start) };
}

async function fleetMigration(app: INestApplication, config: BulkheadConfig): Promise<string> {
  const admin = app.get(TenantAdmin);
  log(`fleet: provisioning ${FLEET_SCHEMAS} schema tenants`);
  const schemas = await provisionMany(admin, FLEET_SCHEMAS, 'schema', 'fleet-schema');
  log(`fleet: schemas in ${schemas.seconds.toFixed(1)}s; provisioning ${FLEET_SILOS} silo tenants`);
  const silos = await provisionMany(admin, FLEET_SILOS, 'silo', 'fleet-silo');
  log(`fleet: silos in ${silos.seconds.toFixed(1)}s`);
  const provisioning = [
    '| provisioning (TenantAdmin.create, 8 at a time) | tenants | wall s | tenants/s |',
    '|---|---|---|---|',
    `| schema (CREATE SCHEMA + every tenant migration) | ${FLEET_SCHEMAS} | ${schemas.seconds.toFixed(1)} | ${(FLEET_SCHEMAS / schemas.seconds).toFixed(1)} |`,
    `| silo (CREATE DATABASE + every tenant migration) | ${FLEET_SILOS} | ${silos.seconds.toFixed(1)} | ${(FLEET_SILOS / silos.seconds).toFixed(1)} |`,
  ];

  const undo = latestMigrationUndo(migrationSourcesFor(DOMAINS));
  const label = migrationLabel(undo.migration);
  const header = [
    '### 3. Fleet migration',
    '',
    `${FLEET_SCHEMAS} schema and ${FLEET_SILOS} silo tenants provisioned for this step (provisioning already applies every tenant migration):`,
    '',
    ...provisioning,
    '',
  ];
  if (undo.unsupported.length) {
    return [
      ...header,
      `**Fleet run skipped**: the latest tenant migration ${label} changes objects it did not create, which this scenario cannot take back out generically: ` +
        undo.unsupported.map((s) => `\`${s}\``).join('; ') +
        '. Teach bench/tier-router/support.ts how to undo it.',
    ].join('\n');
  }

  // Take the latest migration back out of every placed tenant, as its owner, ledger row included.
  const placed = await withPg(config.DATABASE_OWNER_URL, 'routerbench-fleet', (owner) =>
    owner.query<{ id: string; isolation: 'schema' | 'silo'; schema_name: string | null; database_name: string | null }>(
      "SELECT id, isolation, schema_name, database_name FROM tenants WHERE isolation IN ('schema', 'silo') AND status <> 'deleted' ORDER BY id",
    ),
  );
  const placedSchemas = placed.rows.filter((t) => t.isolation === 'schema');
  const placedSilos = placed.rows.filter((t) => t.isolation === 'silo');
  log(`fleet: taking ${label} out of ${placedSchemas.length} schemas and ${placedSilos.length} silos`);
  const undoStart = process.hrtime.bigint();
  const undoLanes = 4;
  const owners: Client[] = await Promise.all(Array.from({ length: undoLanes }, () => connectPg(config.DATABASE_OWNER_URL, 'routerbench-fleet-undo')));
  try {
    const chunks: (typeof placedSchemas)[] = Array.from({ length: undoLanes }, () => []);
    placedSchemas.forEach((t, i) => chunks[i % undoLanes].push(t));
    await Promise.all(
      chunks.map(async (chunk, lane) => {
        for (const tenant of chunk) {
          const client = owners[lane];
          await client.query('BEGIN');
          for (const statement of undo.statements(`"${tenant.schema_name}"`)) await client.query(statement);
          await client.query('DELETE FROM public.schema_migrations WHERE target = $1 AND owner = $2 AND version = $3', [`schema:${tenant.id}`, undo.migration.owner, undo.migration.version]);
          await client.query('COMMIT');
        }
      }),
    );
  } finally {
    await Promise.all(owners.map((client) => client.end().catch(() => undefined)));
  }
  await inLanes(placedSilos, undoLanes, (tenant) =>
    withPg(withDatabase(config.DATABASE_OWNER_URL, tenant.database_name as string), 'routerbench-fleet-undo', async (client) => {
      await client.query('BEGIN');
      for (const statement of undo.statements('public')) await client.query(statement);
      await client.query("DELETE FROM public.schema_migrations WHERE target = 'silo' AND owner = $1 AND version = $2", [undo.migration.owner, undo.migration.version]);
      await client.query('COMMIT');
    }),
  );
  const undoSeconds = seconds(undoStart);

  const migrator = app.get(FleetMigrator);
  const run = async (label: string) => {
    log(`fleet: ${label}`);
    const start = process.hrtime.bigint();
    const reports: FleetTenantReport[] = await migrator.run({ concurrency: FLEET_CONCURRENCY });
    const wall = seconds(start);
    const failed = reports.filter((r) => !r.ok);
    const perModel = (model: 'schema' | 'silo') => reports.filter((r) => r.model === model);
    return { reports, wall, failed, applied: reports.filter((r) => r.applied.length > 0).length, schemas: perModel('schema').length, silos: perModel('silo').length };
  };
  const real = await run(`re-applying ${label} at concurrency ${FLEET_CONCURRENCY}`);
  const noop = await run('no-op pass');
  const row = (name: string, r: typeof real) =>
    `| ${name} | ${r.schemas} | ${r.silos} | ${r.applied} | ${r.failed.length} | ${r.wall.toFixed(1)} | ${(r.reports.length / r.wall).toFixed(1)} |`;
  const failures = [...real.failed, ...noop.failed].slice(0, 5).map((r) => `${r.slug}: ${r.error}`);
  const target = real.wall < 120;
  return [
    ...header,
    `Then ${label} was taken back out of every placed tenant (${placedSchemas.length} schemas, ${placedSilos.length} silos, including the step-1 tenants): ` +
      `as the owner, ${undo.objects.join(', ')} dropped and the ledger row deleted (\`public.schema_migrations\`, target \`schema:<id>\` in ${DATABASE}, \`silo\` in each silo database), in ${undoSeconds.toFixed(1)} s. ` +
      `FleetMigrator.run({ concurrency: ${FLEET_CONCURRENCY} }) then re-applies it everywhere; a second run finds nothing to do.`,
    '',
    '| fleet run | schemas | silos | applied | failed | wall s | tenants/s |',
    '|---|---|---|---|---|---|---|',
    row(`re-apply ${label}`, real),
    row('no-op (every tenant up to date)', noop),
    '',
    `Re-applying one migration to ${real.reports.length} tenants took **${real.wall.toFixed(1)} s** (${(real.reports.length / real.wall).toFixed(1)} tenants/s); ` +
      `target: under 2 minutes for 1,000 schemas: ${target ? 'met' : '**missed**'}${FLEET_SCHEMAS < 1000 ? ` (this run had ${FLEET_SCHEMAS} schemas)` : ''}.` +
      (failures.length ? ` **Failures**: ${failures.join('; ')}` : ''),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 4. Silo churn under the connection budget

interface ChurnRun {
  label: string;
  tenants: number;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  codes: string;
  peakSilo: number;
  peakMain: number;
  samples: number;
  opened: bigint;
  left: number;
  share: number;
}

/**
 * One load run on a fresh API instance: round-robin over `silos`, with a probe sampling the
 * connections to the silo databases from pg_stat_activity, and the sessions the silo databases
 * saw (pg_stat_database.sessions, flushed when the backends exit) counted across the run.
 */
async function churnRun(config: BulkheadConfig, silos: TenantRecord[], label: string): Promise<ChurnRun> {
  const prefix = `${DATABASE}\\_t\\_%`;
  const sampler = await connectPg(superuserUrl(config), 'routerbench-churn-probe');
  const sessions = async () => {
    await sampler.query('SELECT pg_stat_clear_snapshot()');
    const row = await sampler.query<{ n: string }>('SELECT coalesce(sum(sessions), 0)::bigint AS n FROM pg_stat_database WHERE datname LIKE $1', [prefix]);
    return BigInt(row.rows[0].n);
  };
  let app: NestFastifyApplication | undefined;
  try {
    const sessionsBefore = await sessions();
    const started = await startApp(ApiModule, config);
    app = started.app;
    const share = app.get(SiloDataSources).maxConnections;
    const issuer = new DevIssuer(config);
    const tokens = silos.map((t) => `Bearer ${issuer.mint({ subject: 'bench', tenantId: t.id, expiresInSeconds: 3600 })}`);
    let peakSilo = 0;
    let peakMain = 0;
    let samples = 0;
    let sampling = true;
    const sample = (async () => {
      while (sampling) {
        const row = await sampler.query<{ silo: number; main: number }>(
          `SELECT count(*) FILTER (WHERE datname LIKE $1)::int AS silo, count(*) FILTER (WHERE datname = $2)::int AS main
             FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
          [prefix, DATABASE],
        );
        peakSilo = Math.max(peakSilo, row.rows[0].silo);
        peakMain = Math.max(peakMain, row.rows[0].main);
        samples++;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    log(`churn: ${label}: ${silos.length} silos round-robin, ${CHURN_CONNECTIONS} connections, ${CHURN_DURATION_S}s`);
    let next = 0;
    const result = await autocannon({
      url: started.base,
      connections: CHURN_CONNECTIONS,
      duration: CHURN_DURATION_S,
      requests: [
        {
          setupRequest: (request) => {
            const i = next++;
            return { ...request, path: '/v1/orders', headers: { ...(request.headers ?? {}), authorization: tokens[i % tokens.length] } };
          },
        },
      ],
    });
    // autocannon stops at the deadline with requests still in the server: let them finish first.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    sampling = false;
    await sample;
    await app.close();
    app = undefined;
    // Session counters are flushed when the backends exit; give the server a moment.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const opened = (await sessions()) - sessionsBefore;
    const left = (
      await sampler.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname LIKE $1 AND backend_type = 'client backend'", [prefix])
    ).rows[0].n;
    return {
      label,
      tenants: silos.length,
      requests: result.requests.total,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.errors + result.timeouts + result.non2xx,
      codes: Object.entries(result.statusCodeStats ?? {})
        .map(([code, stat]) => `${code}: ${stat.count ?? 0}`)
        .join(', '),
      peakSilo,
      peakMain,
      samples,
      opened,
      left,
      share,
    };
  } finally {
    if (app) await app.close().catch(() => undefined);
    await sampler.end().catch(() => undefined);
  }
}

async function siloChurn(config: BulkheadConfig, silos: TenantRecord[], provisionNote: string): Promise<string> {
  const capacity = Math.floor((BUDGET - CHURN_POOL_MAX) / CHURN_SILO_POOL_MAX);
  // Baseline: the same load over fewer silos than fit, so every pool stays open (no churn).
  const fit = Math.max(1, Math.min(silos.length, capacity - 6));
  const baseline = await churnRun(config, silos.slice(0, fit), 'baseline');
  const churn = await churnRun(config, silos, 'churn');
  const row = (name: string, r: ChurnRun) =>
    `| ${name} | ${r.tenants} | ${r.requests} | ${Math.round(r.rps)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.errors} | ${r.peakSilo} | ${r.share} | ${r.peakMain} | ${r.opened} | ${r.left} |`;
  const met = churn.errors === 0 && churn.peakSilo <= churn.share && baseline.errors === 0 && baseline.peakSilo <= baseline.share;
  return [
    '### 4. Silo churn under the connection budget',
    '',
    `${silos.length} silo tenants (${provisionNote}) served round-robin through \`GET /v1/orders\` (list; the churn silos hold no orders) by autocannon (${CHURN_CONNECTIONS} connections, ${CHURN_DURATION_S} s), one token per tenant, request i going to tenant i mod N. ` +
      `This server has max_connections = 100, so DATABASE_CONNECTION_BUDGET=${BUDGET}: the shared pool takes DATABASE_POOL_MAX=${CHURN_POOL_MAX}, ` +
      `leaving ${BUDGET - CHURN_POOL_MAX} for silo pools of SILO_POOL_MAX=${CHURN_SILO_POOL_MAX}, i.e. ${capacity} silo pools open at once (silo share ${churn.share} connections). ` +
      `Round-robin over more tenants than that is the worst case for the LRU: almost every request finds its pool evicted and reopens it. ` +
      `The baseline runs the same load over ${fit} silos, which all fit, so no pool is ever evicted. TENANT_MAX_CONNECTIONS=${config.TENANT_MAX_CONNECTIONS}, TENANT_CACHE_TTL_MS=${config.TENANT_CACHE_TTL_MS}, SILO_IDLE_MS=${config.SILO_IDLE_MS}. ` +
      `Each run on a fresh API instance; connections sampled from pg_stat_activity about every 10 ms (client backends only: ${baseline.samples} and ${churn.samples} samples); ` +
      `"silo connections opened" is the growth of pg_stat_database.sessions over the silo databases.`,
    '',
    '| run | silo tenants | requests | req/s | p50 ms | p99 ms | errors (non-2xx + socket) | peak silo connections | silo share of budget | peak connections to main db | silo connections opened | left open after close |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    row(`baseline: ${fit} silos, all pools fit`, baseline),
    row(`churn: ${silos.length} silos round-robin`, churn),
    '',
    `Status codes: baseline ${baseline.codes || 'none'}; churn ${churn.codes || 'none'}. ` +
      `Churn: ${churn.errors === 0 ? '0 errors (target 0: met)' : `**${churn.errors} errors** (target 0: missed)`}; ` +
      `peak silo connections ${churn.peakSilo} ${churn.peakSilo <= churn.share ? `<= the silo share ${churn.share} (met)` : `**exceeds** the silo share ${churn.share}`}; ` +
      `${churn.requests > 0 ? (Number(churn.opened) / churn.requests).toFixed(2) : 'n/a'} new silo connections per request, ` +
      `throughput ${(churn.rps / baseline.rps).toFixed(2)}x the no-churn baseline. ${met ? '' : '**A target was missed.** '}` +
      `Peak connections to the main database (the shared pool, DATABASE_POOL_MAX=${CHURN_POOL_MAX}, which also runs the eviction checks; this probe excluded): ${churn.peakMain}; ` +
      `peak silo + peak main = ${churn.peakSilo + churn.peakMain} ${churn.peakSilo + churn.peakMain <= BUDGET ? '<=' : '**>**'} the budget of ${BUDGET} (an upper bound: the two peaks need not coincide).`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------

export async function tierRouterBench(): Promise<BenchSection> {
  const touched = [...new Set([...Object.keys(BASE_ENV), ...Object.keys(ROUTING_ENV), ...Object.keys(CHURN_ENV)])];
  const saved = Object.fromEntries(touched.map((key) => [key, process.env[key]]));
  const started = process.hrtime.bigint();
  try {
    Object.assign(process.env, BASE_ENV, ROUTING_ENV);
    const config = loadConfig();
    log(`recreating ${DATABASE} (BENCH_SCALE=${SCALE})`);
    await bootstrapDatabase({ adminUrl: config.DATABASE_ADMIN_URL, ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL }, { recreate: true });
    await migrateDatabase({ ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL, sources: migrationSourcesFor(DOMAINS) });

    const sections: string[] = [];
    let churnSilos: TenantRecord[] = [];
    let churnNote = '';
    const { app, base } = await startApp(TierRouterBenchModule, config);
    try {
      sections.push(await routingOverhead(app, base, config));
      sections.push(await registryLookups(app, config));
      sections.push(await fleetMigration(app, config));
      // Silos for step 4: step 3's, plus as many more as it needs.
      const existing = await withPg(config.DATABASE_OWNER_URL, 'routerbench-churn', (owner) =>
        owner.query<{ id: string }>("SELECT id FROM tenants WHERE isolation = 'silo' AND slug LIKE 'fleet-silo-%' ORDER BY id"),
      );
      const admin = app.get(TenantAdmin);
      churnSilos = (await Promise.all(existing.rows.slice(0, CHURN_SILOS).map((row) => admin.get(row.id)))) as TenantRecord[];
      const missing = CHURN_SILOS - churnSilos.length;
      if (missing > 0) {
        log(`churn: provisioning ${missing} more silo tenants`);
        const more = await provisionMany(admin, missing, 'silo', 'churn-silo');
        churnSilos.push(...more.tenants);
        churnNote = `${churnSilos.length - missing} from step 3 plus ${missing} provisioned in ${more.seconds.toFixed(1)} s, ${(missing / more.seconds).toFixed(1)}/s`;
      } else {
        churnNote = 'reused from step 3';
      }
    } finally {
      await app.close();
    }

    Object.assign(process.env, CHURN_ENV);
    sections.push(await siloChurn(loadConfig(), churnSilos, churnNote));

    const command = `BENCH_SCALE=${SCALE} npx ts-node --transpile-only -r tsconfig-paths/register bench/scenarios/tier-router.ts`;
    const markdown = [
      `Reproduce with \`npm run bench -- tier-router\` or standalone \`${command}\` ` +
        `(BENCH_SCALE=${SCALE} for these figures; sizes scale with it, 0.05 is a smoke run). Own database \`${DATABASE}\` and its silo databases, recreated every run; ` +
        `2-core shared machine with PostgreSQL (max_connections = 100) on the same host: compare ratios, not absolute numbers. Whole scenario: ${Math.round(seconds(started))} s.`,
      '',
      ...sections.flatMap((section) => [section, '']),
    ]
      .join('\n')
      .trimEnd();
    return { title: 'Tier router: pool, schema and silo at fleet sizes', markdown };
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

if (require.main === module) {
  tierRouterBench()
    .then((section) => {
      process.stdout.write(`## ${section.title}\n\n${section.markdown}\n`);
      process.exit(0);
    })
    .catch((error) => {
      process.stderr.write(`${(error as Error).stack ?? error}\n`);
      process.exit(1);
    });
}

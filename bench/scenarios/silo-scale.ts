/**
 * Silo tenants at the scale the architecture quotes (2,000 database-per-tenant tenants on one API
 * process), on a PostgreSQL cluster of its own (the shared server's max_connections = 100 cannot
 * hold a connection per silo): database bulkhead_silobench and its silo databases, the silos copied
 * from a template provisioned once at the current data version (CREATE DATABASE ... TEMPLATE, then
 * the grants and registry row provisioning writes). One API process in this process, load
 * (autocannon) from a separate one: round-robin over every silo (request i goes to tenant i mod N,
 * the worst case for any cache of pools) against the same load over 24 silos whose pools all stay
 * open (the no-churn baseline). Four ways to serve them: directly and behind our own PgBouncer
 * (transaction pooling), each with fewer server connections than silos (every request starts a
 * backend) and with a server connection per silo (held by the API's pools within a budget that
 * covers them, or by PgBouncer while the API keeps its budget of 80). Sizes scale with
 * BENCH_SCALE (0.05: a smoke run over 100 silos). The cluster is removed at the end.
 */
import { BulkheadConfig, loadConfig } from '@bulkhead/config';
import { SiloDataSources } from '@bulkhead/control-plane';
import { bootstrapDatabase, connectPg, databaseNameFor, migrateDatabase, migrationsOf, parsePgUrl, provisionSilo, quoteIdent, withDatabase, withPg } from '@bulkhead/database';
import { DevIssuer } from '@bulkhead/identity';
import { migrationSourcesFor } from '@bulkhead/tenancy';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ApiModule } from '../../apps/api/src/api.module';
import { createHttpApp } from '../../apps/api/src/http.setup';
import { DOMAINS } from '../../apps/domains';
import { BenchSection } from '../bench-section';
import { runLoad } from '../load/run-load';
import { pgBouncerVersion, startPgBouncer } from '../silo-scale/pgbouncer';
import { seconds } from '../tier-router/support';
import { startBareSiloServer } from '../floor/bare-silo-server';
import { startFaultPostgres } from '../../test/support/fault-services';

const RAW_SCALE = Number(process.env.BENCH_SCALE ?? '1');
const SCALE = RAW_SCALE > 0 ? RAW_SCALE : 1;
const DATABASE = 'bulkhead_silobench';
const SILOS = Math.max(100, Math.round(2000 * SCALE));
const BASELINE_SILOS = 24;
const DURATION_S = Math.max(5, Math.round(20 * SCALE));
const CONNECTIONS = 16;
const BUDGET = 80;
const POOL_MAX = 20;
const SILO_POOL_MAX = 2;
const LANES = 4;
const ROUNDS = 2;
/** PgBouncer's server connections for the runtime role: fewer than the API's budget (it multiplexes), leaving room on a server others share. */
const PGBOUNCER_SERVER_CONNECTIONS = 40;
const TEMPLATE_ID = '00000000-0000-4000-8000-000000000000';

const BENCH_RATE_LIMITS = 'read:6000000,write:6000000,export:6000000,ingest:6000000';

/** Every silo can hold one server connection, with room for the shared pools and the probes. */
const MAX_CONNECTIONS = SILOS + Math.ceil(SILOS / 7) + 300;

const ENV: Record<string, string> = {
  DEV_ISSUER: 'true',
  DEV_ISSUER_KEY_FILE: '.data/silobench-issuer-key.json',
  LOG_LEVEL: 'warn',
  DATABASE_CONNECTION_BUDGET: String(BUDGET),
  DATABASE_POOL_MAX: String(POOL_MAX),
  SILO_POOL_MAX: String(SILO_POOL_MAX),
  TENANT_MAX_CONNECTIONS: String(SILO_POOL_MAX),
  SILO_IDLE_MS: '60000',
  RATE_LIMIT_FREE: BENCH_RATE_LIMITS,
  RATE_LIMIT_PRO: BENCH_RATE_LIMITS,
  RATE_LIMIT_ENTERPRISE: BENCH_RATE_LIMITS,
};

interface Silo {
  id: string;
  databaseName: string;
}

interface Run {
  label: string;
  tenants: number;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** This process's silo connections (its sockets, to PostgreSQL or to PgBouncer), peak. */
  peakOurs: number;
  /** Server backends on the silo databases, peak (PgBouncer's, behind it). */
  peakServer: number;
  samples: number;
  /** Server sessions the silo databases saw during the run (pg_stat_database.sessions). */
  serverOpened: bigint;
  leftOurs: number;
  /** Non-2xx responses by status code, warm-up included. */
  failures: Record<string, number>;
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const log = (message: string) => process.stderr.write(`silo-scale: ${message}\n`);

function adminUrl(config: BulkheadConfig, database = DATABASE): string {
  return withDatabase(config.DATABASE_ADMIN_URL, database);
}

/**
 * A template silo provisioned the ordinary way (every owner's tenant migrations), then each silo
 * a copy of it with the grants provisioning gives and its registry row, active at the template's
 * data version. A copy carries no tenant data: the template never had a tenant.
 */
async function provisionSilos(config: BulkheadConfig): Promise<{ silos: Silo[]; note: string }> {
  const sources = migrationSourcesFor(DOMAINS);
  const runtimeRole = parsePgUrl(config.DATABASE_URL).user;
  const templateName = databaseNameFor(TEMPLATE_ID, DATABASE);
  const started = process.hrtime.bigint();
  log(`recreating ${DATABASE}`);
  await bootstrapDatabase({ adminUrl: config.DATABASE_ADMIN_URL, ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL }, { recreate: true });
  await migrateDatabase({ ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL, sources });
  const template = await provisionSilo(config.DATABASE_OWNER_URL, config.DATABASE_URL, templateName, { sources });
  const silos: Silo[] = Array.from({ length: SILOS }, () => {
    const id = randomUUID();
    return { id, databaseName: databaseNameFor(id, DATABASE) };
  });
  log(`copying ${SILOS} silos from ${templateName} (data version ${template.version}) in ${LANES} lanes`);
  const copyStarted = process.hrtime.bigint();
  const owners = await Promise.all(Array.from({ length: LANES }, () => connectPg(config.DATABASE_OWNER_URL, 'silobench-provision')));
  try {
    let next = 0;
    await Promise.all(owners.map(async (owner) => {
      for (let i = next++; i < silos.length; i = next++) {
      const silo = silos[i];
      await owner.query(`CREATE DATABASE ${quoteIdent(silo.databaseName)} TEMPLATE ${quoteIdent(templateName)}`);
      await owner.query(`REVOKE ALL ON DATABASE ${quoteIdent(silo.databaseName)} FROM PUBLIC`);
      await owner.query(`GRANT CONNECT ON DATABASE ${quoteIdent(silo.databaseName)} TO ${quoteIdent(runtimeRole)}`);
      await owner.query(
        `INSERT INTO tenants (id, slug, name, tier, isolation, status, region, cluster, database_name, data_version)
         VALUES ($1, $2, $3, 'enterprise', 'silo', 'active', $4, 'main', $5, $6)`,
        [silo.id, `scale-${String(i).padStart(5, '0')}`, `Scale ${i}`, config.REGION, silo.databaseName, template.version],
      );
      if ((i + 1) % 250 === 0) log(`  ${i + 1} silos`);
      }
    }));
  } finally {
    await Promise.all(owners.map((owner) => owner.end()));
  }
  const copySeconds = seconds(copyStarted);
  return {
    silos,
    note: `provisioned for this run in ${Math.round(seconds(started))} s: the template by the ordinary provisioning, then ${SILOS} copies in ${Math.round(copySeconds)} s (${fmt(SILOS / copySeconds)}/s, ${LANES} lanes)`,
  };
}

/** What a run serves the load from: the API or the bare floor, started fresh for the run. */
interface Served {
  base: string;
  headerSets: Array<Record<string, string>>;
  /** Its silo connections right now (its sockets, to PostgreSQL or to PgBouncer). */
  connections(): number;
  close(): Promise<void>;
}

type Serve = (silos: Silo[]) => Promise<Served>;

/** A fresh API instance in this process with the run's settings over the scenario's. */
function apiWith(env: Record<string, string>): Serve {
  return async (silos) => {
    const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
    Object.assign(process.env, env);
    let app: NestFastifyApplication;
    let config: BulkheadConfig;
    // The app's own configuration is read from the environment as its modules start: the run's
    // settings stay in place until it is created.
    try {
      config = loadConfig();
      app = await createHttpApp(ApiModule, config, { docs: false });
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    await app.listen(0, '127.0.0.1');
    const pools = app.get(SiloDataSources);
    const issuer = new DevIssuer(config);
    return {
      base: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`,
      headerSets: silos.map((t) => ({ authorization: `Bearer ${issuer.mint({ subject: 'bench', tenantId: t.id, expiresInSeconds: 3600 })}` })),
      connections: () => pools.connections,
      close: () => app.close(),
    };
  };
}

/** The bare floor (bench/floor/bare-silo-server.ts) through `runtimeUrl`'s server: a connection per silo, held. */
function bareAt(runtimeUrl: string): Serve {
  return async (silos) => {
    const bare = await startBareSiloServer((database) => withDatabase(runtimeUrl, database), new Map(silos.map((t) => [t.id, t.databaseName])));
    return { base: bare.url, headerSets: silos.map((t) => ({ 'x-tenant': t.id })), connections: bare.connections, close: bare.close };
  };
}

/** One run on a fresh server in this process, load from another process; the API's connections sampled every 10 ms, the server's every 250 ms. */
async function measure(label: string, silos: Silo[], serve: Serve): Promise<Run> {
  const config = loadConfig();
  const prefix = `${DATABASE}\\_t\\_%`;
  const sampler = await connectPg(adminUrl(config), 'silobench-probe');
  const sessions = async () => {
    await sampler.query('SELECT pg_stat_clear_snapshot()');
    const row = await sampler.query<{ n: string }>('SELECT coalesce(sum(sessions), 0)::bigint AS n FROM pg_stat_database WHERE datname LIKE $1', [prefix]);
    return BigInt(row.rows[0].n);
  };
  let served: Served | undefined;
  let ours: NodeJS.Timeout | undefined;
  try {
    served = await serve(silos);
    const { base, headerSets } = served;
    // Warm-up, one request per silo: JIT, registry cache, each silo's role check (once per database per process), the floor's connections.
    const warm = await runLoad({ url: base, connections: CONNECTIONS, amount: Math.max(silos.length, 200), headers: {}, paths: ['/v1/orders'], headerSets });
    const before = await sessions();
    let peakOurs = 0;
    let peakServer = 0;
    let samples = 0;
    let sampling = true;
    const counting = served;
    // The API's own count is a field read, taken every 10 ms. The server's is a scan of
    // pg_stat_activity, which took 19 ms on average with 500 silo backends (pg_stat_statements)
    // and more with 2,000: every 10 ms, it kept a backend busy most of the run, a probe taking
    // much of one of two cores in the churn runs and little in the baselines.
    // Every 250 ms is enough for backends that stay (a connection per silo) and still sees the
    // pools that churn.
    ours = setInterval(() => (peakOurs = Math.max(peakOurs, counting.connections())), 10);
    const sample = (async () => {
      while (sampling) {
        const row = await sampler.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname LIKE $1",
          [prefix],
        );
        peakServer = Math.max(peakServer, row.rows[0].n);
        samples++;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    log(`${label}: ${silos.length} silos round-robin, ${CONNECTIONS} connections, ${DURATION_S} s`);
    const result = await runLoad({ url: base, connections: CONNECTIONS, durationS: DURATION_S, headers: {}, paths: ['/v1/orders'], headerSets });
    await new Promise((resolve) => setTimeout(resolve, 500));
    sampling = false;
    await sample;
    clearInterval(ours);
    await served.close();
    const leftOurs = served.connections();
    served = undefined;
    // The next run starts once this one's backends have left (or stopped leaving: PgBouncer keeps
    // its own): thousands of them exiting at once take the server's CPU, and a new connection
    // meanwhile waited past its timeout.
    let previous = Number.POSITIVE_INFINITY;
    for (let waited = 0; waited < 120_000; waited += 250) {
      const left = (await sampler.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname LIKE $1",
        [prefix],
      )).rows[0].n;
      if (left === 0 || left >= previous) break;
      previous = left;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const serverOpened = (await sessions()) - before;
    log(`${label}: ${fmt(result.rps)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, ${result.errors + warm.errors} errors`);
    return {
      label,
      tenants: silos.length,
      requests: result.total,
      rps: result.rps,
      p50: result.p50,
      p99: result.p99,
      errors: result.errors + warm.errors,
      peakOurs,
      peakServer,
      samples,
      serverOpened,
      leftOurs,
      failures: Object.fromEntries(
        [warm, result].flatMap((r) => Object.entries(r.codes ?? {})).filter(([code]) => !code.startsWith('2')),
      ),
    };
  } finally {
    clearInterval(ours);
    if (served) await served.close().catch(() => undefined);
    await sampler.end().catch(() => undefined);
  }
}

/** Baseline and churn in alternating rounds, each keeping its best round: a shared machine's noise hits both alike. */
async function interleaved(name: string, silos: Silo[], baselineSilos: Silo[], serve: Serve): Promise<{ baseline: Run; churn: Run }> {
  let baseline: Run | undefined;
  let churn: Run | undefined;
  const merged = (x: Record<string, number>, y: Record<string, number>) => {
    const out = { ...x };
    for (const [code, n] of Object.entries(y)) out[code] = (out[code] ?? 0) + n;
    return out;
  };
  const best = (a: Run | undefined, b: Run): Run => {
    if (!a) return b;
    const kept = a.rps >= b.rps ? a : b;
    return { ...kept, errors: a.errors + b.errors, failures: merged(a.failures, b.failures) };
  };
  for (let round = 0; round < ROUNDS; round++) {
    baseline = best(baseline, await measure(`${name}: baseline, ${BASELINE_SILOS} silos`, baselineSilos, serve));
    churn = best(churn, await measure(`${name}: ${SILOS} silos round-robin`, silos, serve));
  }
  return { baseline: baseline as Run, churn: churn as Run };
}

/**
 * What one churned request costs the server however the API pools: a fresh backend on a silo
 * database (connect), its first tenant read (which loads that backend's catalog caches), and its
 * exit (end), timed on 30 silos one after another with no API in between.
 */
async function freshBackendCost(config: BulkheadConfig, silos: Silo[]): Promise<{ connect: number; firstRead: number; end: number }> {
  const sums = { connect: 0, firstRead: 0, end: 0 };
  const sample = silos.slice(-30);
  for (const silo of sample) {
    const t0 = process.hrtime.bigint();
    const client = await connectPg(withDatabase(config.DATABASE_URL, silo.databaseName), 'silobench-fresh');
    const t1 = process.hrtime.bigint();
    await client.query(`SELECT set_config('app.tenant_id', '${silo.id}', true); SELECT * FROM orders WHERE tenant_id = '${silo.id}' ORDER BY id LIMIT 20`);
    const t2 = process.hrtime.bigint();
    await client.end();
    const t3 = process.hrtime.bigint();
    sums.connect += Number(t1 - t0) / 1e6;
    sums.firstRead += Number(t2 - t1) / 1e6;
    sums.end += Number(t3 - t2) / 1e6;
  }
  return { connect: sums.connect / sample.length, firstRead: sums.firstRead / sample.length, end: sums.end / sample.length };
}

function table(runs: Run[]): string[] {
  return [
    '| run | silo tenants | requests | req/s | p50 ms | p99 ms | errors (non-2xx + socket) | peak silo connections of the API | peak server backends on silo databases | server sessions opened | API silo connections left after close |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...runs.map(
      (r) =>
        `| ${r.label} | ${r.tenants} | ${r.requests} | ${Math.round(r.rps)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.errors} | ${r.peakOurs} | ${r.peakServer} | ${r.serverOpened} | ${r.leftOurs} |`,
    ),
  ];
}

/** The floor's own churn ratio beside the API's best configuration, and how much of it the API keeps. */
function floorLine(name: string, bare: { baseline: Run; churn: Run }, api: { baseline: Run; churn: Run }): string {
  const floor = bare.churn.rps / bare.baseline.rps;
  const ours = api.churn.rps / api.baseline.rps;
  return (
    `${name}, the bare floor serves ${SILOS} silos round-robin at ${fmt(floor, 2)}x its ${BASELINE_SILOS}-silo throughput (${bare.churn.errors} errors); ` +
    `Bulkhead with a connection per silo at ${fmt(ours, 2)}x, ${fmt(ours / floor, 2)} of the floor's ratio, and at ${fmt(api.churn.rps / bare.churn.rps, 2)}x the floor's own ${SILOS}-silo throughput.`
  );
}

function verdict(name: string, baseline: Run, churn: Run, share: number): string {
  const ratio = churn.rps / baseline.rps;
  const ok = ratio >= 0.5 && churn.errors === 0 && churn.peakOurs <= share;
  return (
    `${name}: ${SILOS} silos at ${fmt(ratio, 2)}x the no-churn throughput (target >= 0.5x: ${ratio >= 0.5 ? 'met' : '**missed**'}), ` +
    `${churn.errors} errors (target 0: ${churn.errors === 0 ? 'met' : '**missed**'}), ` +
    `peak ${churn.peakOurs} silo connections of the API within its silo share of ${share} (${churn.peakOurs <= share ? 'met' : '**exceeded**'}), ` +
    `${churn.requests > 0 ? fmt(Number(churn.serverOpened) / churn.requests, 2) : 'n/a'} new server sessions per request.` +
    (Object.keys(churn.failures).length + Object.keys(baseline.failures).length > 0 ? ` Non-2xx: baseline ${JSON.stringify(baseline.failures)}, churn ${JSON.stringify(churn.failures)}.` : '') +
    (ok ? '' : ' **A target was missed.**')
  );
}

export async function siloScaleBench(): Promise<BenchSection> {
  const started = process.hrtime.bigint();
  log(`starting a PostgreSQL cluster of its own (max_connections = ${MAX_CONNECTIONS})`);
  const cluster = await startFaultPostgres({ settings: [`max_connections=${MAX_CONNECTIONS}`, 'fsync=on', 'shared_buffers=256MB'] });
  const at = (role: string, database: string) => `postgres://${role}:${role}@127.0.0.1:${cluster.port}/${database}`;
  const env = { ...ENV, DATABASE_URL: at('bulkhead_app', DATABASE), DATABASE_OWNER_URL: at('bulkhead_owner', DATABASE), DATABASE_ADMIN_URL: cluster.adminUrl() };
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  try {
    const config = loadConfig();
    const { silos, note } = await provisionSilos(config);
    // The copies' pages and WAL are written out before any run: otherwise the first runs share the
    // disk with the checkpoint that writes ~15 GB of copied databases.
    await withPg(adminUrl(config, 'postgres'), 'silobench-checkpoint', (client) => client.query('CHECKPOINT'));
    const share = BUDGET - POOL_MAX;
    const fresh = await freshBackendCost(config, silos);
    const load = (await import('node:os')).loadavg()[0];
    const baselineSilos = silos.slice(0, BASELINE_SILOS);
    // A budget that holds a connection per silo (one each: round-robin never asks a silo for two at
    // once) plus the eighth the silo pools keep free ahead of need (SiloDataSources' headroom): with
    // less, that headroom closes pools all the time.
    const perSiloShare = SILOS + Math.ceil(SILOS / 7) + 10;
    const perSilo = { DATABASE_CONNECTION_BUDGET: String(perSiloShare + POOL_MAX), SILO_POOL_MAX: '1', TENANT_MAX_CONNECTIONS: '1' };
    const bareDirect = await interleaved('bare floor, a connection per silo', silos, baselineSilos, bareAt(config.DATABASE_URL));
    const direct = await interleaved('direct', silos, baselineSilos, apiWith({}));
    const directPerSilo = await interleaved('direct, a connection per silo', silos, baselineSilos, apiWith(perSilo));
    const behind = async <T>(maxUserConnections: number, defaultPoolSize: number, runs: (through: string) => Promise<T>): Promise<T> => {
      const bouncer = await startPgBouncer({
        upstreamPort: cluster.port,
        pools: { [DATABASE]: POOL_MAX },
        defaultPoolSize,
        maxUserConnections,
        users: { bulkhead_app: 'bulkhead_app' },
      });
      try {
        return await runs(bouncer.through(config.DATABASE_URL));
      } finally {
        await bouncer.stop();
      }
    };
    const pgbouncer = await behind(PGBOUNCER_SERVER_CONNECTIONS, SILO_POOL_MAX, (through) =>
      interleaved('PgBouncer', silos, baselineSilos, apiWith({ DATABASE_URL: through })),
    );
    const perSiloBehind = await behind(SILOS + POOL_MAX + 20, 1, async (through) => ({
      bare: await interleaved('PgBouncer, bare floor, a connection per silo', silos, baselineSilos, bareAt(through)),
      api: await interleaved('PgBouncer, a server connection per silo', silos, baselineSilos, apiWith({ DATABASE_URL: through })),
      endToEnd: await interleaved('PgBouncer, a connection per silo end to end', silos, baselineSilos, apiWith({ ...perSilo, DATABASE_URL: through })),
    }));
    const pgbouncerPerSilo = perSiloBehind.api;

    const command = `BENCH_SCALE=${SCALE} npm run bench -- silo-scale`;
    const markdown = [
      `Reproduce with \`${command}\` (BENCH_SCALE=${SCALE} for these figures: ${SILOS} silo tenants; 0.05 is a smoke run over 100). ` +
        `A PostgreSQL 15 cluster of the scenario's own on this host (max_connections = ${MAX_CONNECTIONS}, shared_buffers = 256MB, fsync on; the shared server's 100 connections cannot hold one per silo), ` +
        `database \`${DATABASE}\` and ${SILOS} silo databases, ${note}; the cluster is removed afterwards. 2-core shared machine. Whole scenario: ${Math.round(seconds(started))} s.`,
      '',
      `One API process (in the bench process) with DATABASE_CONNECTION_BUDGET=${BUDGET}, DATABASE_POOL_MAX=${POOL_MAX} (the shared pool), so the silo pools share ${share} connections; ` +
        `SILO_POOL_MAX=${SILO_POOL_MAX}, TENANT_MAX_CONNECTIONS=${SILO_POOL_MAX}, TENANT_CACHE_TTL_MS=${config.TENANT_CACHE_TTL_MS} (default); "a connection per silo" runs with DATABASE_CONNECTION_BUDGET=${perSilo.DATABASE_CONNECTION_BUDGET}, SILO_POOL_MAX=1, TENANT_MAX_CONNECTIONS=1. ` +
        `Load from a separate process: autocannon, ${CONNECTIONS} connections, ${DURATION_S} s per run after a warm-up of one request per silo (JIT, registry cache, and each silo's role check, which runs once per database per process), best of ${ROUNDS} rounds alternating baseline and churn (errors summed over all rounds), \`GET /v1/orders\` (list; the silos hold no orders), one token per tenant, ` +
        `request i going to tenant i mod N: round-robin over more silos than connections is the worst case for any cache of pools, every request finds its silo's pool closed. ` +
        `The baseline runs the same load over ${BASELINE_SILOS} silos whose pools all stay open. Each run on a fresh API instance. ` +
        `"Peak silo connections of the API" counts its own sockets (to PostgreSQL, or to PgBouncer), which is what the budget bounds; ` +
        `"server backends" are sampled from pg_stat_activity every 250 ms (${direct.churn.samples} samples in the direct churn run; the API's own sockets every 10 ms).`,
      '',
      `Behind PgBouncer ${pgBouncerVersion()} (Debian's package, our own instance on a spare port): transaction pooling, a server pool of ${POOL_MAX} for the shared database and ${SILO_POOL_MAX} for each silo database with ` +
        `max_user_connections=${PGBOUNCER_SERVER_CONNECTIONS} for the runtime role (PgBouncer closes an idle server connection of another database to open one for a new database); ` +
        `"a server connection per silo": a pool of 1 for each silo database and max_user_connections=${SILOS + POOL_MAX + 20}, the API keeping its budget of ${BUDGET}; ` +
        `"a connection per silo end to end": the same PgBouncer, and the API's budget (which behind PgBouncer bounds its sockets to PgBouncer, max_client_conn = 5000) covering a socket per silo as directly.`,
      '',
      `The bare floor (bench/floor/bare-silo-server.ts, in this process like the API) is node:http + pg doing the same scoped list as the runtime role with RLS on, ` +
        `a connection per silo opened on its first request and held, the tenant from a header and its database given up front: no token, registry, budget or eviction. ` +
        `Its ratio is what PostgreSQL (and PgBouncer) make of serving ${SILOS} databases round-robin instead of ${BASELINE_SILOS}, with nothing of Bulkhead's in between.`,
      '',
      ...table([
        bareDirect.baseline, bareDirect.churn, direct.baseline, direct.churn, directPerSilo.baseline, directPerSilo.churn,
        pgbouncer.baseline, pgbouncer.churn, perSiloBehind.bare.baseline, perSiloBehind.bare.churn, pgbouncerPerSilo.baseline, pgbouncerPerSilo.churn,
        perSiloBehind.endToEnd.baseline, perSiloBehind.endToEnd.churn,
      ]),
      '',
      floorLine('Directly', bareDirect, directPerSilo),
      '',
      floorLine('Behind PgBouncer', perSiloBehind.bare, perSiloBehind.endToEnd),
      '',
      verdict('Direct', direct.baseline, direct.churn, share),
      '',
      verdict('Direct, a connection per silo', directPerSilo.baseline, directPerSilo.churn, perSiloShare),
      '',
      verdict('Behind PgBouncer', pgbouncer.baseline, pgbouncer.churn, share),
      '',
      verdict('Behind PgBouncer, a server connection per silo', pgbouncerPerSilo.baseline, pgbouncerPerSilo.churn, share),
      '',
      verdict('Behind PgBouncer, a connection per silo end to end', perSiloBehind.endToEnd.baseline, perSiloBehind.endToEnd.churn, perSiloShare),
      '',
      `What a churned request costs the server whatever the API does (${SILOS > 30 ? 30 : SILOS} silos, one after another, no API in between): a fresh backend ${fmt(fresh.connect)} ms to connect, ` +
        `${fmt(fresh.firstRead)} ms for its first tenant read (the backend loads its catalog caches), ${fmt(fresh.end)} ms to exit (load average ${fmt(load, 1)} on 2 cores when measured). ` +
        `With fewer server connections than silos, round-robin pays the first two on every request: directly, and behind PgBouncer too (its server connections are per database, ` +
        `so a new database needs a new backend). The API adds no round trip of its own to a silo pool's open or close. ` +
        `With a server connection per silo, the backends stay: directly the API's pools hold them (its budget must cover the silos), behind PgBouncer PgBouncer does, and the API's own sockets to it stay within its budget.`,
    ].join('\n');
    return { title: `Silo tenants at scale: ${SILOS} silos round-robin on one API process`, markdown };
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await cluster.destroy();
  }
}

/**
 * Signup to the first 2xx on the new tenant's own data, per isolation model, cold (the warm pool
 * empty: CREATE SCHEMA/DATABASE plus every migration inside the saga) and warm (a claim and a
 * rename), beside the synchronous creation the saga replaces (`TenantAdmin.create`: reserve,
 * provision, activate in one call, no ledger, no worker) as the floor of the same work.
 *
 * The API and the worker run in this process, each as its own Nest application, against their own
 * database (bulkhead_lifebench, recreated with its silos every run). The client, also here, posts
 * `POST /v1/admin/onboardings` and then polls `GET /v1/projects` with a token of the new tenant every
 * 2 ms until it answers 200: that answer is the end of the measured time. Signups run one at a time.
 */
import { BulkheadConfig, loadConfig } from '@bulkhead/config';
import { TenantAdmin } from '@bulkhead/control-plane';
import { bootstrapDatabase, migrateDatabase } from '@bulkhead/database';
import { DevIssuer } from '@bulkhead/identity';
import { WarmPool } from '@bulkhead/lifecycle';
import { migrationSourcesFor } from '@bulkhead/tenancy';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { ApiModule } from '../../apps/api/src/api.module';
import { createHttpApp } from '../../apps/api/src/http.setup';
import { DOMAINS } from '../../apps/domains';
import { WorkerModule } from '../../apps/worker/src/worker.module';
import { BenchSection } from '../bench-section';
import { percentile } from '../tier-router/support';

const RAW_SCALE = Number(process.env.BENCH_SCALE ?? '1');
const SCALE = RAW_SCALE > 0 ? RAW_SCALE : 1;
const DATABASE = 'bulkhead_lifebench';
const SIGNUPS = Math.max(5, Math.round(30 * SCALE));
const SILO_SIGNUPS = Math.max(3, Math.round(15 * SCALE));

const ENV: Record<string, string> = {
  DATABASE_URL: `postgres://bulkhead_app:bulkhead_app@127.0.0.1:5432/${DATABASE}`,
  DATABASE_OWNER_URL: `postgres://bulkhead_owner:bulkhead_owner@127.0.0.1:5432/${DATABASE}`,
  DEV_ISSUER: 'true',
  DEV_ISSUER_KEY_FILE: '.data/lifebench-issuer-key.json',
  LOG_LEVEL: 'warn',
  JOBS_QUEUE_NAME: 'jobs-lifebench',
  TENANT_BASE_DOMAIN: 'bench.localhost',
  // The bench fills the warm pool itself, between phases; the worker's own rounds stay out of the way.
  LIFECYCLE_SWEEP_MS: '3600000',
  LIFECYCLE_WARM_SCHEMAS: String(SIGNUPS),
  LIFECYCLE_WARM_SILOS: String(SILO_SIGNUPS),
  SIGNUP_RATE_LIMIT_PER_MINUTE: '1000000',
  AUDIT_CHECKPOINT_INTERVAL_MS: '0',
  AUDIT_QUERY_AUDIT_INTERVAL_MS: '0',
};

type Model = 'pool' | 'schema' | 'silo';
const log = (message: string) => process.stderr.write(`signup: ${message}\n`);
const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : 'n/a');
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Row {
  what: string;
  samples: number[];
}

async function firstTwoHundred(base: string, token: string): Promise<void> {
  for (let i = 0; i < 60_000; i++) {
    const response = await fetch(`${base}/v1/projects`, { headers: { authorization: `Bearer ${token}` } });
    await response.arrayBuffer();
    if (response.status === 200) return;
    if (response.status !== 403 && response.status !== 503) throw new Error(`unexpected ${response.status} while waiting for the new tenant`);
    await pause(2);
  }
  throw new Error('the new tenant never answered 200');
}

async function signups(base: string, config: BulkheadConfig, model: Model, count: number, label: string, tag: string): Promise<Row> {
  const issuer = new DevIssuer(config);
  const operator = issuer.mint({ subject: 'bench-operator', scopes: [config.AUTH_OPERATOR_SCOPE], expiresInSeconds: 3600 });
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const slug = `su-${model}-${tag}-${i}-${Date.now().toString(36)}`;
    const started = performance.now();
    const response = await fetch(`${base}/v1/admin/onboardings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
      body: JSON.stringify({ slug, name: 'Bench', tier: 'free', isolation: model }),
    });
    const body = (await response.json()) as { tenantId: string };
    if (response.status !== 202) throw new Error(`onboarding answered ${response.status}: ${JSON.stringify(body)}`);
    await firstTwoHundred(base, issuer.mint({ subject: 'bench-user', tenantId: body.tenantId, expiresInSeconds: 3600 }));
    samples.push(performance.now() - started);
  }
  return { what: `${model}, ${label}: signup saga to first 200`, samples };
}

async function directCreates(app: NestFastifyApplication, base: string, config: BulkheadConfig, model: Model, count: number): Promise<Row> {
  const issuer = new DevIssuer(config);
  const admin = app.get(TenantAdmin);
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const tenant = await admin.create({ slug: `dc-${model}-${i}-${Date.now().toString(36)}`, name: 'Bench', tier: 'free', isolation: model });
    await firstTwoHundred(base, issuer.mint({ subject: 'bench-user', tenantId: tenant.id, expiresInSeconds: 3600 }));
    samples.push(performance.now() - started);
  }
  return { what: `${model}: synchronous create (no saga; CREATE + migrations in the call) to first 200`, samples };
}

export async function signupBench(): Promise<BenchSection> {
  const saved = Object.fromEntries(Object.keys(ENV).map((key) => [key, process.env[key]]));
  Object.assign(process.env, ENV);
  let api: NestFastifyApplication | undefined;
  let worker: INestApplicationContext | undefined;
  try {
    const config = loadConfig();
    log(`recreating ${DATABASE} (BENCH_SCALE=${SCALE})`);
    await bootstrapDatabase({ adminUrl: config.DATABASE_ADMIN_URL, ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL }, { recreate: true });
    await migrateDatabase({ ownerUrl: config.DATABASE_OWNER_URL, runtimeUrl: config.DATABASE_URL, sources: migrationSourcesFor(DOMAINS) });
    api = await createHttpApp(ApiModule as never, config, { docs: false });
    await api.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${(api.getHttpServer().address() as AddressInfo).port}`;
    worker = await NestFactory.createApplicationContext(WorkerModule, { logger: false });
    await worker.init();
    const pool = worker.get(WarmPool);

    const rows: Row[] = [];
    // A few unmeasured signups first: connections, caches and the JIT warm up.
    await signups(base, config, 'pool', 3, 'warm-up', 'wu');
    for (const model of ['pool', 'schema', 'silo'] as const) {
      const count = model === 'silo' ? SILO_SIGNUPS : SIGNUPS;
      log(`${model}: ${count} synchronous creates`);
      rows.push(await directCreates(api, base, config, model, count));
      if (model === 'pool') {
        log(`pool: ${count} signups`);
        rows.push(await signups(base, config, model, count, 'no storage', 'p'));
        continue;
      }
      log(`${model}: ${count} cold signups`);
      rows.push(await signups(base, config, model, count, 'cold (warm pool empty)', 'c'));
      log(`${model}: filling the warm pool`);
      const filled = performance.now();
      const created = await pool.refill();
      log(`${model}: warm pool filled (${created.created} entries in ${((performance.now() - filled) / 1000).toFixed(1)} s)`);
      rows.push(await signups(base, config, model, count, 'warm (claimed from the pool)', 'w'));
    }
    const table = [
      '| what | n | p50 ms | p99 ms | max ms |',
      '|---|---|---|---|---|',
      ...rows.map((row) => `| ${row.what} | ${row.samples.length} | ${fmt(percentile(row.samples, 50))} | ${fmt(percentile(row.samples, 99))} | ${fmt(Math.max(...row.samples))} |`),
    ].join('\n');
    const markdown = [
      'Signup to the first 2xx on the new tenant\'s own data (`POST /v1/admin/onboardings`, then `GET /v1/projects` with',
      'the new tenant\'s token polled every 2 ms), one signup at a time; API and worker in one process with the client',
      `(BENCH_SCALE=${SCALE}). "Synchronous create" is the path the saga replaces: \`TenantAdmin.create\`, provisioning`,
      'inside the call, no ledger, no worker: the floor of the same storage work. Targets: pool p99 < 100 ms, schema',
      'p99 < 300 ms warm, silo p99 < 1 s warm. Own database `bulkhead_lifebench` and its silos, recreated every run.',
      '',
      table,
    ].join('\n');
    return { title: 'Signup: onboarding saga, cold and warm', markdown };
  } finally {
    await worker?.close();
    await api?.close();
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

import { loadConfig } from '@bulkhead/config';
import { TenantRepository } from '@bulkhead/control-plane';
import { withPg } from '@bulkhead/database';
import { OFFBOARDING_STEPS, ONBOARDING_STEPS, SagaLedger, WarmPool } from '@bulkhead/lifecycle';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import { v7 as uuidv7 } from 'uuid';
import { compiledProcess, platformBuild } from './support/platform-build';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor, uniqueSlug } from './support/test-app';

const ROOT = join(__dirname, '..');
const ENV = { LIFECYCLE_LEASE_MS: '300', LIFECYCLE_WARM_SCHEMAS: '1', LIFECYCLE_WARM_SILOS: '1' };

interface ChildRun {
  killed: boolean;
  outcome?: string;
  points: string[];
  output: string;
}

/** A saga process, booted and waiting to be told to run (see saga-runner-process.ts). */
interface WaitingChild {
  /** Runs the saga; answers when the process is gone (killed at its point, or at the end). */
  run(): Promise<ChildRun>;
  /** Ends it without running: an earlier process ended the saga. */
  dismiss(): Promise<void>;
}

/** Starts a saga process that SIGKILLs itself at `killAt` (if it gets there) once it is told to run. */
function startChild(sagaId: string, killAt: string): WaitingChild {
  const saga = compiledProcess('test/support/saga-runner-process.ts');
  const child = spawn(process.execPath, [...saga.args, sagaId], { cwd: ROOT, env: { ...process.env, ...ENV, ...saga.env, KILL_AT: killAt } });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  // A process told to run after its stdin broke (it died while booting) answers its exit all the same.
  child.stdin.on('error', () => undefined);
  const exited = new Promise<ChildRun>((resolve) =>
    child.on('exit', (code, signal) =>
      resolve({
        killed: signal === 'SIGKILL',
        outcome: /outcome (\w+)/.exec(output)?.[1],
        points: [...output.matchAll(/^point (.+)$/gm)].map((m) => m[1]),
        output: code === 0 || signal === 'SIGKILL' ? '' : output,
      }),
    ),
  );
  return {
    run: () => {
      child.stdin.end('run\n');
      return exited;
    },
    dismiss: async () => {
      child.stdin.end();
      await exited;
    },
  };
}

/**
 * One process per point, each killed there (if it gets there) and the next resuming the saga;
 * then a last run to the end if none ended it. Answers the points reached and the final outcome.
 * Each next process is started while the one before runs and told to run once that one is gone.
 */
async function killAtEach(sagaId: string, points: string[]): Promise<{ reached: string[]; outcome?: string }> {
  const reached: string[] = [];
  const runs = [...points, 'none'];
  let current = startChild(sagaId, runs[0]);
  let next: WaitingChild | undefined;
  try {
    for (let i = 0; ; i++) {
      next = i + 1 < runs.length ? startChild(sagaId, runs[i + 1]) : undefined;
      const run = await current.run();
      if (run.output) throw new Error(`saga process failed: ${run.output}`);
      if (!run.killed || !next) return { reached, outcome: run.outcome };
      expect(run.points[run.points.length - 1]).toBe(runs[i]);
      reached.push(runs[i]);
      current = next;
      next = undefined;
    }
  } finally {
    await next?.dismiss();
  }
}

/**
 * A process running the onboarding saga is killed with SIGKILL at every step boundary and at
 * every point inside a step (after its effects, before the ledger records them; between the claim
 * of warm storage and its rename), one kill per process, each next process resuming the same
 * saga. It must end exactly as an uninterrupted run: the tenant active and served, its storage
 * present once under its own name, nothing leaked (every tenant schema and silo database belongs
 * to a tenant or the warm pool), one host, one event.
 */
describe('onboarding converges after SIGKILL at every step boundary', () => {
  jest.setTimeout(900_000);
  let api: TestApi;
  const config = loadConfig();

  beforeAll(async () => {
    platformBuild();
    api = await startTestApi(ENV);
  }, 300_000);

  afterAll(async () => {
    await api?.close();
  });

  /**
   * `inside:<step>:ran`: the step's effects are done and the ledger does not know yet (the hard
   * boundary); `before:<step>`: the previous step is recorded and this one not begun (schema run
   * only: the same code path for every model); the warm claim's two inner points.
   */
  const killPoints = (isolation: string): string[] =>
    ONBOARDING_STEPS.flatMap((step) => [
      ...(isolation === 'schema' ? [`before:${step}`] : []),
      ...(step === 'storage' && isolation !== 'pool' ? ['inside:storage:claimed', 'inside:storage:adopted'] : []),
      `inside:${step}:ran`,
    ]);

  it.each(['schema', 'silo', 'pool'] as const)(
    '%s tenant',
    async (isolation) => {
      if (isolation !== 'pool') await api.app.get(WarmPool).refill();
      const slug = uniqueSlug(`kill-${isolation}`);
      const tenantId = uuidv7();
      const { saga } = await api.app.get(SagaLedger).create({
        tenantId,
        kind: 'onboarding',
        request: { slug, name: 'Killed', tier: 'pro', isolation, source: 'operator' },
        startedBy: 'test',
        steps: [...ONBOARDING_STEPS],
      });
      const { reached, outcome } = await killAtEach(saga.id, killPoints(isolation));
      expect(outcome).toBe('succeeded');
      // Every point was reached and killed (the warm path for schema and silo).
      expect(reached).toEqual(killPoints(isolation));

      const steps = await api.app.get(SagaLedger).steps(saga.id);
      expect(steps.map((s) => s.status)).toEqual(ONBOARDING_STEPS.map(() => 'succeeded'));
      // Each kill inside a step cost that step one run.
      const insideKills = (step: string) => reached.filter((point) => point.startsWith(`inside:${step}:`)).length;
      expect(steps.map((s) => s.attempts)).toEqual(steps.map((s) => 1 + insideKills(s.step)));
      const tenant = (await api.app.get(TenantRepository).findById(tenantId))!;
      expect(tenant.status).toBe('active');
      expect(steps.find((s) => s.step === 'storage')?.details.source).toBe(isolation === 'pool' ? undefined : 'warm');

      const token = tokenFor(api, tenant);
      expect((await request(api.server).post('/v1/projects').set('authorization', `Bearer ${token}`).send({ name: 'after the kills' })).status).toBe(201);
      expect((await request(api.server).get('/v1/projects').set('authorization', `Bearer ${token}`)).body.items).toHaveLength(1);

      await withPg(config.DATABASE_OWNER_URL, 'test', async (client) => {
        const hosts = await client.query('SELECT host FROM lifecycle_hosts WHERE tenant = $1', [tenantId]);
        expect(hosts.rows).toEqual([{ host: `${slug}.bulkhead.test` }]);
        const events = await client.query("SELECT count(*)::int AS n FROM lifecycle_outbox WHERE tenant = $1 AND type = 'tenant.activated'", [tenantId]);
        expect(events.rows[0].n).toBe(1);
        expect((await client.query('SELECT count(*)::int AS n FROM lifecycle_warm_storage WHERE claimed_by = $1', [tenantId])).rows[0].n).toBe(0);
        // Nothing leaked: every tenant schema belongs to the warm pool or is named for a registered
        // tenant. Other suites sharing this database keep some of their own for reasons of theirs
        // (a moved tenant's source during its grace period, a deleted tenant's storage): those are
        // named for their tenants, whatever its status; what a killed saga leaks would not be.
        const orphanSchemas = await client.query(
          `SELECT nspname FROM pg_namespace WHERE nspname ~ '^t_[0-9a-f]{32}$'
             AND nspname NOT IN (SELECT 't_' || replace(id::text, '-', '') FROM tenants)
             AND nspname NOT IN (SELECT name FROM lifecycle_warm_storage)`,
        );
        expect(orphanSchemas.rows).toEqual([]);
        const orphanLedgers = await client.query(
          `SELECT DISTINCT target FROM schema_migrations WHERE target LIKE 'schema:%'
             AND substr(target, 8)::uuid NOT IN (SELECT id FROM tenants)
             AND substr(target, 8)::uuid NOT IN (SELECT id FROM lifecycle_warm_storage)`,
        );
        expect(orphanLedgers.rows).toEqual([]);
        if (isolation === 'schema') {
          expect((await client.query('SELECT count(*)::int AS n FROM schema_migrations WHERE target = $1', [`schema:${tenantId}`])).rows[0].n).toBe(tenant.dataVersion);
        }
        const database = parsePgDatabase(config.DATABASE_URL);
        const orphanDatabases = await client.query(
          `SELECT datname FROM pg_database WHERE datname LIKE $1
             AND datname NOT IN (SELECT database_name FROM tenants WHERE database_name IS NOT NULL)
             AND datname NOT IN (SELECT $2 || replace(id::text, '-', '') FROM tenants)
             AND datname NOT IN (SELECT name FROM lifecycle_warm_storage)`,
          [`${database}\\_t\\_%`, `${database}_t_`],
        );
        expect(orphanDatabases.rows).toEqual([]);
      });
    },
    900_000,
  );
});

/**
 * The same for offboarding (no grace period): a process running it is killed at every step
 * boundary (schema run), inside every step after its effects, and at each checkpoint inside the
 * erase step, one kill per process. It must end as an uninterrupted run: the tenant deleted, its
 * storage gone, an erasure certificate with nothing left in any store, one `tenant.erased` event,
 * and a bystander of the same model untouched.
 */
describe('offboarding converges after SIGKILL at every step boundary', () => {
  jest.setTimeout(900_000);
  let api: TestApi;
  const config = loadConfig();

  beforeAll(async () => {
    platformBuild();
    api = await startTestApi(ENV);
  }, 300_000);

  afterAll(async () => {
    await api?.close();
  });

  /** The erase step's own checkpoints: between the key's shredding, the storage, former placements and the retirement. */
  const ERASE_CHECKPOINTS = ['shredded', 'storage erased', 'former placements erased', 'retired'];
  const killPoints = (isolation: string): string[] =>
    OFFBOARDING_STEPS.flatMap((step) => [
      ...(isolation === 'schema' ? [`before:${step}`] : []),
      ...(step === 'erase' ? ERASE_CHECKPOINTS.map((label) => `inside:erase:${label}`) : []),
      `inside:${step}:ran`,
    ]);

  it.each(['schema', 'silo', 'pool'] as const)(
    '%s tenant',
    async (isolation) => {
      const tenant = await createTenant(api, { isolation, tier: 'pro' });
      const bystander = await createTenant(api, { isolation, tier: 'pro' });
      for (const owner of [tenant, bystander]) {
        expect((await request(api.server).post('/v1/projects').set('authorization', `Bearer ${tokenFor(api, owner)}`).send({ name: `of ${owner.slug}` })).status).toBe(201);
      }
      const { saga } = await api.app.get(SagaLedger).create({
        tenantId: tenant.id,
        kind: 'offboarding',
        request: { model: isolation, graceDays: 0 },
        startedBy: 'test',
        steps: [...OFFBOARDING_STEPS],
      });
      const { reached, outcome } = await killAtEach(saga.id, killPoints(isolation));
      expect(outcome).toBe('succeeded');
      expect(reached).toEqual(killPoints(isolation));
      const steps = await api.app.get(SagaLedger).steps(saga.id);
      expect(steps.map((s) => s.status)).toEqual(OFFBOARDING_STEPS.map(() => 'succeeded'));

      expect((await api.app.get(TenantRepository).findById(tenant.id))?.status).toBe('deleted');
      const certificate = await request(api.server).get(`/v1/admin/tenants/${tenant.id}/erasure-certificate`).set('authorization', `Bearer ${operatorToken(api)}`);
      expect(certificate.status).toBe(200);
      const stores = certificate.body.stores as Array<{ store: string; tenantAfter: number }>;
      expect(stores.length).toBeGreaterThan(3);
      expect(stores.filter((s) => s.tenantAfter !== 0)).toEqual([]);
      expect(stores.find((s) => s.store.endsWith('.projects'))).toMatchObject({ tenantBefore: 1, tenantAfter: 0 });

      await withPg(config.DATABASE_OWNER_URL, 'test', async (client) => {
        const events = await client.query("SELECT count(*)::int AS n FROM lifecycle_outbox WHERE tenant = $1 AND type = 'tenant.erased'", [tenant.id]);
        expect(events.rows[0].n).toBe(1);
        if (isolation === 'schema') expect((await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [tenant.schemaName])).rows).toEqual([]);
        if (isolation === 'silo') expect((await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [tenant.databaseName])).rows).toEqual([]);
      });
      const kept = await request(api.server).get('/v1/projects').set('authorization', `Bearer ${tokenFor(api, bystander)}`);
      expect(kept.body.items.map((project: { name: string }) => project.name)).toEqual([`of ${bystander.slug}`]);
    },
    900_000,
  );
});

function parsePgDatabase(url: string): string {
  return new URL(url).pathname.slice(1);
}

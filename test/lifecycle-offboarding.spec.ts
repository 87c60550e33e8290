import './support/private-job-queue';
import { loadConfig } from '@bulkhead/config';
import { TenantRecord, TenantRepository } from '@bulkhead/control-plane';
import type { Client } from 'pg';
import { connectPg, parsePgUrl, withDatabase, withPg } from '@bulkhead/database';
import { FairQueue } from '@bulkhead/fair-queue';
import { jobsQueueKeys } from '@bulkhead/jobs';
import { LifecycleView, OFFBOARDING_STEPS, SagaLedger, SagaObserver, SagaRunner, StepRecord } from '@bulkhead/lifecycle';
import { Project } from '@bulkhead/projects';
import { runWithTenant, tenantContextOf, TenantData } from '@bulkhead/tenancy';
import { TenantMover } from '@bulkhead/tenant-moves';
import { INestApplicationContext } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import request from 'supertest';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';
import { eventually, startTestWorker } from './support/test-worker';

const ENV = { LIFECYCLE_SWEEP_MS: '200', LIFECYCLE_LEASE_MS: '2000', SILO_IDLE_MS: '500' };

/** The offboarding's point of no return as its definition reads it: the erase step started, once. */
const erasureBegun = (steps: StepRecord[]) => steps.some((step) => step.step === 'erase' && (step.status !== 'pending' || step.startedAt !== null));

interface Certificate {
  tenantId: string;
  storage: string;
  auditKey: string;
  archive: { sha256: string };
  stores: Array<{ store: string; tenantBefore: number; tenantAfter: number; othersBefore: number | null; othersAfter: number | null }>;
}

describe('offboarding: fence, export, grace with restore, erasure, verification, certificate', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let operator: string;
  let redis: Redis;
  const config = loadConfig();

  beforeAll(async () => {
    api = await startTestApi(ENV);
    worker = await startTestWorker(ENV);
    operator = operatorToken(api);
    redis = new Redis(config.REDIS_URL);
  }, 120_000);

  afterAll(async () => {
    redis?.disconnect();
    await worker?.close();
    await api?.close();
  });

  const asOperator = (path: string) => request(api.server).get(path).set('authorization', `Bearer ${operator}`);
  const lifecycle = async (id: string) => (await asOperator(`/v1/admin/tenants/${id}/lifecycle`)).body as LifecycleView;
  const lastSaga = async (id: string) => {
    const view = await lifecycle(id);
    return view.sagas[view.sagas.length - 1];
  };

  const seed = async (tenant: TenantRecord, label: string) => {
    const token = tokenFor(api, tenant);
    for (let i = 0; i < 3; i++) {
      const project = await request(api.server).post('/v1/projects').set('authorization', `Bearer ${token}`).send({ name: `${label} ${i}` });
      expect(project.status).toBe(201);
      expect((await request(api.server).post('/v1/tasks').set('authorization', `Bearer ${token}`).send({ projectId: project.body.id, title: `task ${i}` })).status).toBe(201);
    }
    expect((await request(api.server).post('/v1/customers').set('authorization', `Bearer ${token}`).send({ name: label, email: `${label}@example.com` })).status).toBe(201);
  };

  it('once erasure has begun nothing is undone: abort and restore are refused, and a saga aborted across its start ends failed with the tenant still fenced', async () => {
    const tenant = await createTenant(api, { isolation: 'pool', tier: 'pro' });
    await seed(tenant, 'no-return');
    expect((await request(api.server).post(`/v1/admin/tenants/${tenant.id}/offboard`).set('authorization', `Bearer ${operator}`).send({})).status).toBe(202);
    const waiting = await eventually(async () => {
      const saga = await lastSaga(tenant.id);
      return saga.steps.find((s) => s.step === 'grace')?.details.due ? saga : undefined;
    }, 'offboarding to wait out its grace period');
    // What a worker leaves after a first failed attempt at erasing: the grace over, erase failed once.
    await withPg(config.DATABASE_OWNER_URL, 'test', async (client) => {
      await client.query(`UPDATE lifecycle_steps SET status = 'succeeded', finished_at = now() WHERE saga_id = $1 AND step = 'grace'`, [waiting.id]);
      await client.query(`UPDATE lifecycle_steps SET status = 'failed', attempts = 1, failures = 1, started_at = now(), finished_at = now(), last_error = 'injected' WHERE saga_id = $1 AND step = 'erase'`, [waiting.id]);
    });
    for (const path of ['lifecycle/abort', 'restore']) {
      const refused = await request(api.server).post(`/v1/admin/tenants/${tenant.id}/${path}`).set('authorization', `Bearer ${operator}`).send({});
      expect({ path, status: refused.status, detail: refused.body.detail }).toEqual({ path, status: 409, detail: expect.stringMatching(/erasure has begun/) });
    }
    // The ledger itself refuses an abort once the erase step has begun (read under the saga's row lock).
    expect(await api.app.get(SagaLedger).requestAbort(waiting.id, 'test', erasureBegun)).toBe('past_point');
    // A saga left compensating across the erase step's start all the same (by a version before that
    // lock): the runner undoes nothing.
    await withPg(config.DATABASE_OWNER_URL, 'test', (client) => client.query("UPDATE lifecycle_sagas SET status = 'compensating', abort_requested = true, lease_owner = NULL, lease_until = NULL WHERE id = $1", [waiting.id]));
    expect(await api.app.get(SagaRunner).run(waiting.id)).toBe('failed');
    expect((await lastSaga(tenant.id)).steps.filter((s) => s.status === 'compensated')).toEqual([]);
    expect((await api.app.get(TenantRepository).findById(tenant.id))?.status).toBe('suspended');
    expect((await request(api.server).get('/v1/projects').set('authorization', `Bearer ${tokenFor(api, tenant)}`)).status).toBe(403);
    // Nor does a plain reactivation serve a partly erased tenant.
    const reactivated = await request(api.server).post(`/v1/admin/tenants/${tenant.id}/reactivate`).set('authorization', `Bearer ${operator}`);
    expect({ status: reactivated.status, code: reactivated.body.code, detail: reactivated.body.detail }).toEqual({ status: 409, code: 'tenant_state_conflict', detail: expect.stringMatching(/point of no return/) });
    expect((await api.app.get(TenantRepository).findById(tenant.id))?.status).toBe('suspended');
  });

  /** The app's saga runner with an observer of its steps: a race placed exactly where it hurts. */
  const runnerObserving = (observer: SagaObserver): SagaRunner => Object.assign(Object.create(SagaRunner.prototype) as SagaRunner, api.app.get(SagaRunner), { observer });
  const offboardingSaga = async (tenant: TenantRecord, graceDays = 0) =>
    (await api.app.get(SagaLedger).create({ tenantId: tenant.id, kind: 'offboarding', request: { model: tenant.isolation, graceDays }, startedBy: 'test', steps: [...OFFBOARDING_STEPS] })).saga;

  it("a pool row the tenant committed after its rows were erased but before its retirement is erased by verification, and the saga converges", async () => {
    const tenant = await createTenant(api, { isolation: 'pool' });
    await seed(tenant, 'late-row');
    const saga = await offboardingSaga(tenant);
    const runner = runnerObserving(async (phase, step, label) => {
      // Between the erasure of its rows and its retirement: as a unit of work admitted earlier would commit.
      if (phase === 'inside' && step === 'erase' && label === 'former placements erased') {
        await withPg(config.DATABASE_OWNER_URL, 'test', async (client) => {
          await client.query('BEGIN');
          await client.query("SELECT set_config('app.tenant_id', $1, true)", [tenant.id]);
          await client.query("INSERT INTO customers (tenant_id, id, email, name) VALUES ($1, gen_random_uuid(), 'late@example.com', 'Late')", [tenant.id]);
          await client.query('COMMIT');
        });
      }
    });
    expect(await runner.run(saga.id)).toBe('succeeded');
    const steps = await api.app.get(SagaLedger).steps(saga.id);
    expect(steps.find((step) => step.step === 'verify')).toMatchObject({ failures: 0, details: { lateErased: { 'postgres:pool-rows': 1 } } });
    const certificate = (await asOperator(`/v1/admin/tenants/${tenant.id}/erasure-certificate`)).body as Certificate;
    expect(certificate.stores.filter((store) => store.tenantAfter !== 0)).toEqual([]);
  }, 60_000);

  it('a restore that meets the erase step about to begin stops it: the saga ends aborted and the tenant comes back whole', async () => {
    const tenant = await createTenant(api, { isolation: 'pool' });
    await seed(tenant, 'abort-before-erase');
    const saga = await offboardingSaga(tenant);
    let restored: number | undefined;
    const runner = runnerObserving(async (phase, step) => {
      if (phase === 'before' && step === 'erase') restored = (await request(api.server).post(`/v1/admin/tenants/${tenant.id}/restore`).set('authorization', `Bearer ${operator}`)).status;
    });
    expect(await runner.run(saga.id)).toBe('aborted');
    expect(restored).toBe(202);
    expect((await api.app.get(SagaLedger).steps(saga.id)).find((step) => step.step === 'erase')?.status).toBe('pending');
    expect((await api.app.get(TenantRepository).findById(tenant.id))?.status).toBe('active');
    const projects = await request(api.server).get('/v1/projects').set('authorization', `Bearer ${tokenFor(api, tenant)}`);
    expect({ status: projects.status, count: projects.body.items?.length }).toEqual({ status: 200, count: 3 });
  });

  it('a saga aborted while its grace step runs compensates instead of sleeping until the grace ends', async () => {
    const tenant = await createTenant(api, { isolation: 'pool' });
    const ledger = api.app.get(SagaLedger);
    const saga = await offboardingSaga(tenant, 2);
    // What the race leaves: the run holds the lease inside the grace step when the abort lands.
    expect(await ledger.acquire(saga.id, 'a-run', 60_000)).not.toBeNull();
    expect(await ledger.requestAbort(saga.id, 'restore', erasureBegun)).toBe('requested');
    const grace = (await ledger.steps(saga.id)).find((step) => step.step === 'grace');
    expect(await ledger.sleepUntil(saga.id, grace!.position, new Date(Date.now() + 2 * 86_400_000))).toBe(false);
    const after = await withPg(config.DATABASE_OWNER_URL, 'test', (client) => client.query('SELECT status, lease_owner FROM lifecycle_sagas WHERE id = $1', [saga.id]));
    expect(after.rows[0]).toEqual({ status: 'compensating', lease_owner: 'a-run' });
    await ledger.release(saga.id, 'a-run');
    expect(await api.app.get(SagaRunner).run(saga.id)).toBe('aborted');
  });

  it('erases only once no move of the tenant keeps a second copy of its data', async () => {
    const tenant = await createTenant(api, { isolation: 'pool' });
    // A switched move, its source kept through the move's grace period.
    const moveId = randomUUID();
    const place = JSON.stringify({ isolation: 'pool', cluster: 'main' });
    await withPg(config.DATABASE_OWNER_URL, 'test', (client) =>
      client.query("INSERT INTO tenant_moves (id, tenant, phase, source, target, source_version) VALUES ($1, $2, 'switched', $3, $3, 1)", [moveId, tenant.id, place]),
    );
    expect((await request(api.server).post(`/v1/admin/tenants/${tenant.id}/offboard`).set('authorization', `Bearer ${operator}`).send({ graceDays: 0 })).status).toBe(202);
    await eventually(async () => ((await lastSaga(tenant.id)).steps.find((s) => s.step === 'grace')?.details.waitingForMove === 'switched' ? true : undefined), 'the grace step to wait for the move');
    expect((await lastSaga(tenant.id)).steps.find((s) => s.step === 'erase')?.status).toBe('pending');
    await withPg(config.DATABASE_OWNER_URL, 'test', (client) => client.query("UPDATE tenant_moves SET phase = 'done', finished_at = now() WHERE id = $1", [moveId]));
    await eventually(async () => ((await lastSaga(tenant.id)).status === 'succeeded' ? true : undefined), 'the erasure once the move is done', 30_000);
  }, 60_000);

  /** What a failed move of the tenant leaves, as the admin role sees it in the main database. */
  const moveTraces = async (tenantId: string) => {
    const hex = tenantId.replace(/-/g, '');
    return withPg(withDatabase(api.config.DATABASE_ADMIN_URL, parsePgUrl(api.config.DATABASE_URL).database), 'test', async (client) => {
      const one = async (sql: string, values: unknown[]) => Number((await client.query<{ n: string }>(sql, values)).rows[0].n);
      return {
        poolCustomers: await one('SELECT count(*) AS n FROM public.customers WHERE tenant_id = $1', [tenantId]),
        targetSchema: await one('SELECT count(*) AS n FROM pg_namespace WHERE nspname = $1', [`t_${hex}`]),
        triggers: await one('SELECT count(*) AS n FROM pg_trigger WHERE tgname LIKE $1', [`bulkhead\\_move\\_${hex}\\_%`]),
        capture: await one('SELECT (SELECT count(*) FROM bulkhead_move.changes WHERE tenant = $1) + (SELECT count(*) FROM bulkhead_move.fences WHERE tenant = $1) AS n', [tenantId]),
      };
    });
  };

  it('offboards a tenant whose move failed: the move is aborted first (its target dropped, its capture gone), and the certificate covers where it went', async () => {
    const tenant = await createTenant(api, { isolation: 'pool', tier: 'pro' });
    await seed(tenant, 'failed-move');
    const mover = api.app.get(TenantMover);
    const requested = await mover.request(tenant.id, 'schema');
    // Copied and caught up, stopped before the fence...
    await expect(
      mover.run(requested.id, (move) => {
        if (move.phase === 'switching') throw new Error('stopped before the fence');
      }),
    ).rejects.toThrow('stopped before the fence');
    // ...where the target then disagrees with the source: the parity check fails the move.
    const hex = tenant.id.replace(/-/g, '');
    await withPg(withDatabase(api.config.DATABASE_ADMIN_URL, parsePgUrl(api.config.DATABASE_URL).database), 'test', (client) =>
      client.query(`SET session_replication_role = replica; DELETE FROM t_${hex}.customers`),
    );
    expect(await mover.run(requested.id)).toMatchObject({ phase: 'failed', error: expect.stringMatching(/parity check failed on customers/) });
    expect(await moveTraces(tenant.id)).toEqual({ poolCustomers: 1, targetSchema: 1, triggers: expect.any(Number), capture: 1 });
    expect((await moveTraces(tenant.id)).triggers).toBeGreaterThan(0);

    const saga = await offboardingSaga(tenant);
    expect(await api.app.get(SagaRunner).run(saga.id)).toBe('succeeded');

    // The move was undone before the erasure, which then took the tenant from where it lives.
    expect(await mover.current(tenant.id)).toMatchObject({ phase: 'aborted', progress: { abortReason: expect.stringMatching(/being offboarded/) } });
    expect((await api.app.get(SagaLedger).steps(saga.id)).find((step) => step.step === 'grace')?.details).toMatchObject({ abortedMove: requested.id });
    expect(await moveTraces(tenant.id)).toEqual({ poolCustomers: 0, targetSchema: 0, triggers: 0, capture: 0 });
    const certificate = (await asOperator(`/v1/admin/tenants/${tenant.id}/erasure-certificate`)).body as Certificate;
    expect(certificate.stores).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ store: `postgres:former:schema@main/t_${hex}`, tenantAfter: 0 }),
        expect.objectContaining({ store: 'postgres:move-capture:main', tenantAfter: 0 }),
      ]),
    );
    expect(certificate.stores.filter((store) => store.tenantAfter !== 0)).toEqual([]);
  }, 60_000);

  /** Records a finished move of `tenant` (a schema tenant) from main's pool to where it lives. */
  const recordMoveFromPool = (client: Client, tenant: TenantRecord) =>
    client.query("INSERT INTO tenant_moves (id, tenant, phase, source, target, source_version, finished_at) VALUES ($1, $2, 'done', $3, $4, 1, now())", [
      randomUUID(),
      tenant.id,
      JSON.stringify({ isolation: 'pool', cluster: 'main', schemaName: null, databaseName: null }),
      JSON.stringify({ isolation: 'schema', cluster: 'main', schemaName: tenant.schemaName, databaseName: null }),
    ]);

  it('erases what a pool the tenant left remembers of it (its departure), and certifies it', async () => {
    const tenant = await createTenant(api, { isolation: 'schema' });
    // The tenant came from the pool of main, which noted its departure to refuse late writes there.
    await withPg(config.DATABASE_OWNER_URL, 'test', async (client) => {
      await recordMoveFromPool(client, tenant);
      await client.query('INSERT INTO public.bulkhead_departures (tenant, placement_version) VALUES ($1, 2)', [tenant.id]);
    });
    const departures = () => withPg(config.DATABASE_OWNER_URL, 'test', async (client) => (await client.query('SELECT 1 FROM public.bulkhead_departures WHERE tenant = $1', [tenant.id])).rowCount);
    expect(await departures()).toBe(1);

    const saga = await offboardingSaga(tenant);
    expect(await api.app.get(SagaRunner).run(saga.id)).toBe('succeeded');

    expect(await departures()).toBe(0);
    const certificate = (await asOperator(`/v1/admin/tenants/${tenant.id}/erasure-certificate`)).body as Certificate;
    expect(certificate.stores).toEqual(expect.arrayContaining([expect.objectContaining({ store: 'postgres:departures:main', tenantBefore: 1, tenantAfter: 0 })]));
    expect(certificate.stores.filter((store) => store.tenantAfter !== 0)).toEqual([]);
  }, 60_000);

  it('drops a capture trigger a move of the tenant left behind on the pool it moved from, and certifies it', async () => {
    const tenant = await createTenant(api, { isolation: 'schema' });
    const hex = tenant.id.replace(/-/g, '');
    await withPg(config.DATABASE_OWNER_URL, 'test', async (client) => {
      await recordMoveFromPool(client, tenant);
      // What an abort cut short between its triggers and its rows leaves: a trigger named for the
      // tenant on a shared pool table (here one that changes nothing: it only ever sees this tenant's rows).
      await client.query(
        `CREATE TRIGGER bulkhead_move_${hex}_u BEFORE UPDATE ON public.customers FOR EACH ROW WHEN (OLD.tenant_id = '${tenant.id}') EXECUTE FUNCTION suppress_redundant_updates_trigger()`,
      );
    });
    const triggers = () =>
      withPg(config.DATABASE_OWNER_URL, 'test', async (client) => (await client.query('SELECT 1 FROM pg_trigger WHERE tgname = $1', [`bulkhead_move_${hex}_u`])).rowCount);
    expect(await triggers()).toBe(1);

    const saga = await offboardingSaga(tenant);
    expect(await api.app.get(SagaRunner).run(saga.id)).toBe('succeeded');

    expect(await triggers()).toBe(0);
    const certificate = (await asOperator(`/v1/admin/tenants/${tenant.id}/erasure-certificate`)).body as Certificate;
    expect(certificate.stores).toEqual(expect.arrayContaining([expect.objectContaining({ store: 'postgres:move-capture:main', tenantBefore: 1, tenantAfter: 0 })]));
    expect(certificate.stores.filter((store) => store.tenantAfter !== 0)).toEqual([]);
  }, 60_000);

  it('erasing a schema someone still reads never queues the tables\' other readers behind its DROP, and completes once the straggler lets go', async () => {
    const tenant = await createTenant(api, { isolation: 'schema' });
    await seed(tenant, 'straggler');
    const table = `${tenant.schemaName as string}.customers`;
    const mainDb = withDatabase(api.config.DATABASE_ADMIN_URL, parsePgUrl(api.config.DATABASE_URL).database);
    // A unit of work that still reads the schema, holding its AccessShare lock.
    const straggler = await connectPg(mainDb, 'straggler');
    const reader = await connectPg(mainDb, 'other-reader');
    let dropping = false;
    let outcome: Promise<string> | undefined;
    try {
      await straggler.query('BEGIN');
      await straggler.query(`SELECT count(*) FROM ${table}`);
      const saga = await offboardingSaga(tenant);
      outcome = runnerObserving((phase, step, label) => {
        if (phase === 'inside' && step === 'erase' && label === 'shredded') dropping = true;
      }).run(saga.id);
      await eventually(async () => (dropping ? true : undefined), 'the erasure to reach the schema\'s drop');
      await new Promise((resolve) => setTimeout(resolve, 300));
      // A reader stuck behind the DROP's lock request fails on this timeout instead of hanging.
      await reader.query("SET statement_timeout = '5s'");
      for (let i = 0; i < 10; i++) {
        await expect(reader.query(`SELECT count(*) FROM ${table}`)).resolves.toBeDefined();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await straggler.query('COMMIT');
      expect(await outcome).toBe('succeeded');
      expect((await reader.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [tenant.schemaName])).rowCount).toBe(0);
    } finally {
      await straggler.query('COMMIT').catch(() => undefined);
      await outcome?.catch(() => undefined);
      await Promise.all([straggler.end(), reader.end()]);
    }
  }, 60_000);

  it('an erasure that meets a straggler holding its schema longer waits for it in the ledger, never counting a failure, and completes once it lets go', async () => {
    const tenant = await createTenant(api, { isolation: 'schema' });
    await seed(tenant, 'long-straggler');
    const mainDb = withDatabase(api.config.DATABASE_ADMIN_URL, parsePgUrl(api.config.DATABASE_URL).database);
    const straggler = await connectPg(mainDb, 'long-straggler');
    try {
      await straggler.query('BEGIN');
      await straggler.query(`SELECT count(*) FROM ${tenant.schemaName as string}.customers`);
      const saga = await offboardingSaga(tenant);
      // Held past the step's wait for the lock: the run ends waiting, not failed.
      expect(await api.app.get(SagaRunner).run(saga.id)).toBe('waiting');
      const eraseStep = async () => (await api.app.get(SagaLedger).steps(saga.id)).find((step) => step.step === 'erase');
      const first = await eraseStep();
      expect(first).toMatchObject({ failures: 0, lastError: null, details: { waitingForLock: expect.any(String) } });
      // The worker's sweeper runs the step again while the straggler holds on: still no failure.
      await eventually(async () => ((await eraseStep())?.details.waitingForLock !== first?.details.waitingForLock ? true : undefined), 'a second run of the erase step', 30_000);
      expect(await eraseStep()).toMatchObject({ failures: 0, lastError: null });
      await straggler.query('COMMIT');
      await eventually(async () => ((await lastSaga(tenant.id)).status === 'succeeded' ? true : undefined), 'the erasure once the straggler let go', 30_000);
      expect((await straggler.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [tenant.schemaName])).rowCount).toBe(0);
      // The key was shredded once, however many runs the lock cost (each shred writes audit entries).
      const shreds = await withPg(mainDb, 'test', async (client) => {
        const rows = await client.query(
          "SELECT outcome FROM audit_entries WHERE tenant_id = '00000000-0000-0000-0000-000000000000' AND action = 'audit.key_shred' AND strpos(entry, $1) > 0",
          [tenant.id],
        );
        return rows.rows.map((row: { outcome: string }) => row.outcome);
      });
      expect(shreds).toEqual(['succeeded']);
    } finally {
      await straggler.query('COMMIT').catch(() => undefined);
      await straggler.end();
    }
  }, 120_000);

  it("an erasure whose silo database someone is still connected to waits for it in the ledger, never counting a failure, and completes once it disconnects", async () => {
    const tenant = await createTenant(api, { isolation: 'silo' });
    await seed(tenant, 'silo-straggler');
    const straggler = await connectPg(withDatabase(api.config.DATABASE_ADMIN_URL, tenant.databaseName as string), 'silo-straggler');
    let connected = true;
    try {
      const saga = await offboardingSaga(tenant);
      expect(await api.app.get(SagaRunner).run(saga.id)).toBe('waiting');
      expect((await api.app.get(SagaLedger).steps(saga.id)).find((step) => step.step === 'erase')).toMatchObject({
        failures: 0,
        lastError: null,
        details: { waitingForConnections: expect.any(String) },
      });
      await straggler.end();
      connected = false;
      await eventually(async () => ((await lastSaga(tenant.id)).status === 'succeeded' ? true : undefined), 'the erasure once the connection closed', 60_000);
      const left = await withPg(config.DATABASE_OWNER_URL, 'test', async (client) => (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [tenant.databaseName])).rowCount);
      expect(left).toBe(0);
    } finally {
      if (connected) await straggler.end().catch(() => undefined);
    }
  }, 120_000);

  it('exports what was admitted before the fence and committed after it', async () => {
    const tenant = await createTenant(api, { isolation: 'pool' });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // A write past the tenant guard before the fence, its commit still to come.
    const late = runWithTenant(tenantContextOf(tenant, 'test'), () =>
      api.app.get(TenantData).transaction(async (tx) => {
        await tx.repository(Project).insert({ name: 'admitted before the fence' });
        await held;
      }),
    );
    expect((await request(api.server).post(`/v1/admin/tenants/${tenant.id}/offboard`).set('authorization', `Bearer ${operator}`).send({})).status).toBe(202);
    await eventually(async () => ((await api.app.get(TenantRepository).findById(tenant.id))?.status === 'suspended' ? true : undefined), 'the fence');
    await new Promise((resolve) => setTimeout(resolve, 500));
    release();
    await late;
    await eventually(async () => ((await lastSaga(tenant.id)).steps.find((s) => s.step === 'export')?.status === 'succeeded' ? true : undefined), 'the export', 30_000);
    const manifest = JSON.parse((await asOperator(`/v1/admin/tenants/${tenant.id}/archive`).buffer(true).parse((res, done) => {
      res.on('data', () => undefined);
      res.on('end', () => done(null, null));
    })).headers['x-archive-manifest']) as { tables: Array<{ table: string; rows: number }> };
    expect(manifest.tables.find((t) => t.table === 'projects')?.rows).toBe(1);
    expect((await request(api.server).post(`/v1/admin/tenants/${tenant.id}/restore`).set('authorization', `Bearer ${operator}`)).status).toBe(202);
  }, 60_000);

  it('retires the tenant before erasing what other libs keep of it: a flag override written then is refused, and the erasure verifies', async () => {
    const tenant = await createTenant(api, { isolation: 'pool' });
    const flag = `erasing-${randomUUID().slice(0, 8)}`;
    expect((await request(api.server).post('/v1/admin/flags').set('authorization', `Bearer ${operator}`).send({ key: flag, defaultValue: false })).status).toBe(201);
    const saga = await offboardingSaga(tenant);
    let override: number | undefined;
    const runner = runnerObserving(async (phase, step, label) => {
      if (phase === 'inside' && step === 'erase' && label === 'retired') {
        override = (await request(api.server).put(`/v1/admin/flags/${flag}/tenants/${tenant.id}`).set('authorization', `Bearer ${operator}`).send({ value: true })).status;
      }
    });
    expect(await runner.run(saga.id)).toBe('succeeded');
    expect(override).toBeGreaterThanOrEqual(400);
    expect(override).toBeLessThan(500);
    expect((await api.app.get(SagaLedger).get(saga.id))?.status).toBe('succeeded');
  }, 60_000);

  it('verification erases once more what was written back after the erasers (a write checked just before the retirement), and the saga converges', async () => {
    const tenant = await createTenant(api, { isolation: 'pool' });
    const flag = `late-${randomUUID().slice(0, 8)}`;
    const created = await request(api.server).post('/v1/admin/flags').set('authorization', `Bearer ${operator}`).send({ key: flag, defaultValue: false });
    expect(created.status).toBe(201);
    const saga = await offboardingSaga(tenant);
    const runner = runnerObserving(async (phase, step) => {
      // What the race leaves: an override that passed its registry check before the retirement, committed after the erasers.
      if (phase === 'before' && step === 'verify') {
        await withPg(config.DATABASE_OWNER_URL, 'test', (client) =>
          client.query("INSERT INTO feature_flag_overrides (flag_id, tenant, value) SELECT id, $2, 'true'::jsonb FROM feature_flags WHERE key = $1", [flag, tenant.id]),
        );
      }
    });
    expect(await runner.run(saga.id)).toBe('succeeded');
    const verify = (await api.app.get(SagaLedger).steps(saga.id)).find((step) => step.step === 'verify');
    expect(verify?.details.lateErased).toEqual({ 'control:feature_flag_overrides': 1 });
    const left = await withPg(config.DATABASE_OWNER_URL, 'test', (client) => client.query('SELECT count(*)::int AS n FROM feature_flag_overrides WHERE tenant = $1', [tenant.id]));
    expect(left.rows[0].n).toBe(0);
  }, 60_000);

  it("erasure takes the tenant out of the fair queue at once, giving its in-flight slots back to the window", async () => {
    const tenant = await createTenant(api, { isolation: 'pool' });
    const keys = jobsQueueKeys(config);
    const fq = new FairQueue({ name: config.JOBS_QUEUE_NAME, bullQueueName: keys.queueName, connection: redis });
    // The window's total against the in-flight sets it counts, read in one atomic step.
    const window = async () => {
      const [total, counted] = (await redis.eval(
        "local n = 0 for _, t in ipairs(redis.call('SMEMBERS', KEYS[2])) do n = n + redis.call('SCARD', ARGV[1] .. t) end return { tonumber(redis.call('GET', KEYS[1]) or '0'), n }",
        2,
        keys.inflightTotal,
        keys.busy,
        keys.tag + 'inflight:',
      )) as [number, number];
      return { total, counted };
    };
    let otherKeys = -1;
    const job = (i: number) => ({ tenant: tenant.id, name: 'test.unknown-to-this-worker', data: { v: 1, tenantId: tenant.id, userId: 'u', payload: {} }, jobId: `late-${i}` });
    const saga = await offboardingSaga(tenant);
    const runner = runnerObserving(async (phase, step) => {
      if (phase !== 'before' || step !== 'erase') return;
      // Jobs of a name only a newer worker knows are retried with their slots kept: in flight
      // while the tenant is erased. Then an operator's pause and one more job, buffered.
      await fq.enqueueBulk([0, 1, 2].map(job));
      await eventually(async () => ((await fq.tenantStats(tenant.id)).inFlight === 3 ? true : undefined), "the tenant's jobs in flight");
      await fq.pause(tenant.id);
      await fq.enqueue(tenant.id, job(3));
      otherKeys = (await redis.keys(`*${tenant.id}*`)).filter((key) => !key.startsWith(keys.tag)).length;
    });
    expect(await runner.run(saga.id)).toBe('succeeded');

    const after = await window();
    expect(after.total).toBe(after.counted);
    expect(await fq.tenantRecords(tenant.id)).toBe(0);
    // Its jobs are gone from BullMQ too (their hashes deleted by name left their ids in BullMQ's
    // lists), and no worker taking one up writes a key naming the tenant again.
    expect(await fq.bullJobIds(tenant.id)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(await redis.keys(`*${tenant.id}*`)).toEqual([]);
    expect(await redis.exists(keys.dedupe(tenant.id))).toBe(0);
    // Nor does BullMQ's event stream name its jobs (added, retried, removed by the erasure itself).
    const events = await redis.xrange(keys.bullEvents, '-', '+');
    expect(events.filter(([, fields]) => fields.some((value) => value.includes(tenant.id)))).toEqual([]);
    expect(await redis.sismember(keys.paused, tenant.id)).toBe(0);
    expect(await redis.sismember(keys.busy, tenant.id)).toBe(0);
    const stores = (await api.app.get(SagaLedger).steps(saga.id)).find((s) => s.step === 'verify')?.details.stores as Certificate['stores'];
    expect(stores.find((s) => s.store === 'redis:fair-queue')).toMatchObject({ tenantBefore: expect.any(Number), tenantAfter: 0 });
    expect(stores.find((s) => s.store === 'redis:fair-queue')?.tenantBefore).toBeGreaterThanOrEqual(4);
    // The fair queue's keys (and BullMQ's job hashes) are that store's: not counted twice.
    expect(stores.find((s) => s.store === 'redis:keys')?.tenantBefore).toBe(otherKeys);
    await fq.close();
  }, 60_000);

  it('counts an irreversible step begun once it has started, even after a retry set it pending again', async () => {
    const tenant = await createTenant(api, { isolation: 'pool' });
    const ledger = api.app.get(SagaLedger);
    const saga = await offboardingSaga(tenant);
    await withPg(config.DATABASE_OWNER_URL, 'test', async (client) => {
      await client.query("UPDATE lifecycle_steps SET status = 'succeeded', started_at = now(), finished_at = now() WHERE saga_id = $1 AND step IN ('fence', 'export', 'grace')", [saga.id]);
      await client.query("UPDATE lifecycle_steps SET status = 'failed', attempts = 1, failures = 1, started_at = now(), finished_at = now(), last_error = 'injected' WHERE saga_id = $1 AND step = 'erase'", [saga.id]);
      await client.query("UPDATE lifecycle_sagas SET status = 'failed' WHERE id = $1", [saga.id]);
    });
    expect(await ledger.restart(saga.id)).not.toBeNull();
    expect((await ledger.steps(saga.id)).find((step) => step.step === 'erase')?.status).toBe('pending');
    expect(await ledger.requestAbort(saga.id, 'test', erasureBegun)).toBe('past_point');
    const refused = await request(api.server).post(`/v1/admin/tenants/${tenant.id}/restore`).set('authorization', `Bearer ${operator}`);
    expect({ status: refused.status, detail: refused.body.detail }).toEqual({ status: 409, detail: expect.stringMatching(/erasure has begun/) });
    await withPg(config.DATABASE_OWNER_URL, 'test', (client) => client.query("UPDATE lifecycle_sagas SET status = 'aborted' WHERE id = $1", [saga.id]));
  });

  it('restore gives back the tenant as it was: one an operator had suspended before stays suspended', async () => {
    const tenant = await createTenant(api, { isolation: 'pool', tier: 'pro' });
    await api.admin.suspend(tenant.id);
    expect((await request(api.server).post(`/v1/admin/tenants/${tenant.id}/offboard`).set('authorization', `Bearer ${operator}`).send({})).status).toBe(202);
    await eventually(async () => ((await lastSaga(tenant.id)).steps.find((s) => s.step === 'grace')?.details.due ? true : undefined), 'offboarding to wait out its grace period');
    expect((await lastSaga(tenant.id)).steps.find((s) => s.step === 'fence')?.details.suspendedHere).toBe(false);
    expect((await request(api.server).post(`/v1/admin/tenants/${tenant.id}/restore`).set('authorization', `Bearer ${operator}`)).status).toBe(202);
    await eventually(async () => ((await lastSaga(tenant.id)).status === 'aborted' ? true : undefined), 'the restore');
    expect((await api.app.get(TenantRepository).findById(tenant.id))?.status).toBe('suspended');
    // And it can be reactivated as any suspended tenant: nothing holds it any more.
    expect((await request(api.server).post(`/v1/admin/tenants/${tenant.id}/reactivate`).set('authorization', `Bearer ${operator}`)).status).toBe(200);
  });

  it('a retried saga forgets what its compensated steps noted: an earlier fence\'s "this suspension is mine" does not outlive its lifting', async () => {
    const tenant = await createTenant(api, { isolation: 'pool' });
    const ledger = api.app.get(SagaLedger);
    const { saga } = await ledger.create({ tenantId: tenant.id, kind: 'offboarding', request: {}, startedBy: 'test', steps: ['fence', 'export'] });
    await withPg(config.DATABASE_OWNER_URL, 'test', async (client) => {
      await client.query(`UPDATE lifecycle_steps SET status = 'compensated', details = '{"suspendedHere": true, "fencedAt": "2026-11-28T00:00:00Z"}' WHERE saga_id = $1 AND step = 'fence'`, [saga.id]);
      await client.query(`UPDATE lifecycle_steps SET status = 'failed', details = '{"kept": 1}' WHERE saga_id = $1 AND step = 'export'`, [saga.id]);
      await client.query(`UPDATE lifecycle_sagas SET status = 'failed' WHERE id = $1`, [saga.id]);
    });
    expect(await ledger.restart(saga.id)).not.toBeNull();
    const steps = await ledger.steps(saga.id);
    expect(steps.map((step) => [step.step, step.status, step.details])).toEqual([
      ['fence', 'pending', {}],
      // A failed step's notes are how its next run resumes: kept.
      ['export', 'pending', { kept: 1 }],
    ]);
    await withPg(config.DATABASE_OWNER_URL, 'test', (client) => client.query(`UPDATE lifecycle_sagas SET status = 'aborted' WHERE id = $1`, [saga.id]));
  });

  it.each(['pool', 'schema', 'silo'] as const)('%s tenant: restore within grace brings it back whole, erasure leaves nothing and others untouched', async (isolation) => {
    const tenant = await createTenant(api, { isolation, tier: 'pro' });
    const bystander = await createTenant(api, { isolation: 'pool' });
    await seed(tenant, `off-${isolation}`);
    await seed(bystander, `by-${isolation}`);
    const token = tokenFor(api, tenant);
    const bystanderBefore = (await request(api.server).get('/v1/projects').set('authorization', `Bearer ${tokenFor(api, bystander)}`)).body.items;

    // 1. Offboard with the default grace period: fenced and exported, then waiting.
    const started = await request(api.server).post(`/v1/admin/tenants/${tenant.id}/offboard`).set('authorization', `Bearer ${operator}`).send({});
    expect(started.status).toBe(202);
    const waiting = await eventually(async () => {
      const saga = await lastSaga(tenant.id);
      const grace = saga.steps.find((s) => s.step === 'grace');
      return saga.steps.find((s) => s.step === 'export')?.status === 'succeeded' && grace?.details.due ? saga : undefined;
    }, 'offboarding to wait out its grace period');
    expect(waiting.status).toBe('running');
    expect((await request(api.server).get('/v1/projects').set('authorization', `Bearer ${token}`)).status).toBe(403);
    // The fence is not a plain suspension: reactivating would let writes in that the export missed, and the erasure would still come.
    const reactivated = await request(api.server).post(`/v1/admin/tenants/${tenant.id}/reactivate`).set('authorization', `Bearer ${operator}`);
    expect({ status: reactivated.status, code: reactivated.body.code, detail: reactivated.body.detail }).toEqual({ status: 409, code: 'tenant_state_conflict', detail: expect.stringMatching(/restore it/) });
    expect((await request(api.server).get('/v1/projects').set('authorization', `Bearer ${token}`)).status).toBe(403);

    const archive = await asOperator(`/v1/admin/tenants/${tenant.id}/archive`).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
    expect(archive.status).toBe(200);
    const first = archive.body as Buffer;
    const manifest = JSON.parse(archive.headers['x-archive-manifest']) as { tables: Array<{ table: string; rows: number; sha256: string }>; archiveSha256: string };
    expect(createHash('sha256').update(first).digest('hex')).toBe(manifest.archiveSha256);
    const rowsOf = (table: string) => manifest.tables.find((t) => t.table === table)?.rows;
    expect(rowsOf('projects')).toBe(3);
    expect(rowsOf('tasks')).toBe(3);
    expect(rowsOf('customers')).toBe(1);
    const parsed = JSON.parse(first.toString('utf8')) as { tables: Array<{ table: string; rows: Array<{ tenant_id: string }> }> };
    expect(parsed.tables.flatMap((t) => t.rows).every((row) => row.tenant_id === tenant.id)).toBe(true);
    // Operators only.
    expect((await request(api.server).get(`/v1/admin/tenants/${tenant.id}/archive`).set('authorization', `Bearer ${tokenFor(api, bystander)}`)).status).toBe(403);

    // 2. Restore: back whole.
    expect((await request(api.server).post(`/v1/admin/tenants/${tenant.id}/restore`).set('authorization', `Bearer ${operator}`)).status).toBe(202);
    await eventually(async () => ((await lastSaga(tenant.id)).status === 'aborted' ? true : undefined), 'the restore');
    await eventually(async () => ((await request(api.server).get('/v1/projects').set('authorization', `Bearer ${token}`)).status === 200 ? true : undefined), 'the tenant served again');
    expect((await request(api.server).get('/v1/projects').set('authorization', `Bearer ${token}`)).body.items).toHaveLength(3);

    // Records of the tenant outside its placement: a flag override and noisy-neighbour history.
    const flag = await request(api.server).post('/v1/admin/flags').set('authorization', `Bearer ${operator}`).send({ key: `erase-${isolation}-${Date.now().toString(36)}`, defaultValue: false });
    expect(flag.status).toBe(201);
    expect((await request(api.server).put(`/v1/admin/flags/${flag.body.id}/tenants/${tenant.id}`).set('authorization', `Bearer ${operator}`).send({ value: true })).status).toBe(200);
    const adminUrl = config.DATABASE_ADMIN_URL.replace(/\/[^/]*$/, `/${new URL(config.DATABASE_URL).pathname.slice(1)}`);
    await withPg(adminUrl, 'test', (client) => client.query("INSERT INTO noisy_tenant_events (tenant, event, minute) VALUES ($1, 'flagged', date_trunc('minute', now()))", [tenant.id]));

    // 3. Offboard again with no grace: the same data in the archive, then erasure.
    expect((await request(api.server).post(`/v1/admin/tenants/${tenant.id}/offboard`).set('authorization', `Bearer ${operator}`).send({ graceDays: 0 })).status).toBe(202);
    const done = await eventually(async () => {
      const saga = await lastSaga(tenant.id);
      return saga.status !== 'running' && saga.status !== 'compensating' ? saga : undefined;
    }, 'the erasure', 900);
    expect({ status: done.status, reason: done.reason, errors: done.steps.map((s) => s.lastError).filter(Boolean) }).toEqual({ status: 'succeeded', reason: null, errors: [] });
    // The same data, table by table. The audit trail may have grown meanwhile (the restore, and
    // requests the fenced tenant made while suspended, are recorded in its own chain).
    const sameData = (tables: Array<{ table: string; rows: number; sha256: string }>) => tables.filter((t) => !t.table.startsWith('audit_'));
    expect(sameData(done.steps.find((s) => s.step === 'export')?.details.tables as typeof manifest.tables)).toEqual(sameData(manifest.tables));

    const certificate = (await asOperator(`/v1/admin/tenants/${tenant.id}/erasure-certificate`)).body as Certificate;
    expect(certificate.tenantId).toBe(tenant.id);
    expect(certificate.archive.sha256).toBe(done.steps.find((s) => s.step === 'export')?.details.sha256);
    expect(certificate.auditKey).toBe('shredded');
    expect(certificate.stores.length).toBeGreaterThan(5);
    expect(certificate.stores.every((s) => s.tenantAfter === 0)).toBe(true);
    expect(certificate.stores.find((s) => s.store.endsWith('.projects'))?.tenantBefore).toBe(3);
    expect(certificate.stores.filter((s) => s.store.startsWith('control:feature_flag') || s.store.startsWith('control:noisy')).map((s) => [s.store, s.tenantBefore, s.tenantAfter])).toEqual([
      ['control:feature_flag_overrides', 1, 0],
      ['control:noisy_tenant_events', 1, 0],
    ]);
    // Other suites write into the same pool meanwhile: the bystander's own data, checked at the end, is the proof here.
    if (isolation === 'pool') expect(certificate.stores.filter((s) => s.store.startsWith('postgres:')).every((s) => typeof s.othersBefore === 'number')).toBe(true);
    expect(JSON.stringify(certificate)).not.toContain(`off-${isolation}`);
    expect((await request(api.server).get(`/v1/admin/tenants/${tenant.id}/erasure-certificate`).set('authorization', `Bearer ${tokenFor(api, bystander)}`)).status).toBe(403);
    expect((await asOperator(`/v1/admin/tenants/${tenant.id}/archive`)).status).toBe(404);

    // Every store enumerated again here, independently of the saga.
    await withPg(config.DATABASE_ADMIN_URL.replace(/\/[^/]*$/, `/${new URL(config.DATABASE_URL).pathname.slice(1)}`), 'test', async (client) => {
      const tables = await client.query<{ schema: string; table: string }>(
        `SELECT n.nspname AS schema, c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind = 'r' AND n.nspname = 'public' AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id')`,
      );
      for (const { table } of tables.rows) {
        expect({ table, rows: Number((await client.query(`SELECT count(*) AS n FROM public."${table}" WHERE tenant_id = $1`, [tenant.id])).rows[0].n) }).toEqual({ table, rows: 0 });
      }
      expect((await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [tenant.schemaName ?? '-'])).rowCount).toBe(0);
      expect((await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [tenant.databaseName ?? '-'])).rowCount).toBe(0);
      expect((await client.query('SELECT 1 FROM schema_migrations WHERE target = $1', [`schema:${tenant.id}`])).rowCount).toBe(0);
    });
    expect(await redis.keys(`*${tenant.id}*`)).toEqual([]);
    expect((await request(api.server).get('/v1/projects').set('authorization', `Bearer ${token}`)).status).toBe(403);
    expect((await request(api.server).get('/v1/projects').set('authorization', `Bearer ${tokenFor(api, bystander)}`)).body.items).toEqual(bystanderBefore);
  });
});

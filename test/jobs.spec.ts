import './support/private-job-queue';
import { randomUUID } from 'node:crypto';
import { FairQueue } from '@bulkhead/fair-queue';
import { loadConfig } from '@bulkhead/config';
import { JobHandler, JobHandlerProvider, JOBS_MAX_STALLED, jobsQueueKeys, PLATFORM_KEY } from '@bulkhead/jobs';
import { peekTenantId, runWithTenant, TenantData, tenantContextOf } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { TenantRecord } from '@bulkhead/control-plane';
import { INestApplicationContext } from '@nestjs/common';
import { Queue } from 'bullmq';
import { createRedis, type RedisClient } from '@bulkhead/redis';
import { call, expectProblem } from './support/http';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';
import { eventually, startTestWorker } from './support/test-worker';

const PROBE_JOB = 'test.platform-probe';
const JOBS_KEYS = jobsQueueKeys(loadConfig());
const platformRuns: Array<{ marker: string; tenant: string }> = [];

/** A platform job handler that records whether any tenant context was visible to it. */
@JobHandlerProvider()
@Injectable()
class PlatformProbeHandler implements JobHandler<{ marker: string }> {
  readonly name = PROBE_JOB;
  readonly scope = 'platform' as const;

  async handle(payload: { marker: string; sleepMs?: number }): Promise<void> {
    platformRuns.push({ marker: payload.marker, tenant: peekTenantId() ?? 'none' });
    if (payload.sleepMs) {
      await new Promise((resolve) => setTimeout(resolve, payload.sleepMs));
      platformRuns.push({ marker: `${payload.marker}:done`, tenant: peekTenantId() ?? 'none' });
    }
  }
}

const STALL_PROBE_JOB = 'test.stall-probe';
const stallProbe: Array<{ event: 'run' | 'final-failure'; tenant: string; attempt: number }> = [];

/**
 * A tenant job whose first run leaves its job counted as BullMQ's stalled-job check counts one
 * found stalled JOBS_MAX_STALLED + 1 times (the worker running it killed, again and again), then
 * fails, to be taken again.
 */
@JobHandlerProvider()
@Injectable()
class StallProbeHandler implements JobHandler<{ bullJobKey: string }> {
  readonly name = STALL_PROBE_JOB;
  readonly scope = 'tenant' as const;

  async handle(payload: { bullJobKey: string }, job: { attempt: number }): Promise<void> {
    stallProbe.push({ event: 'run', tenant: peekTenantId() ?? 'none', attempt: job.attempt });
    const redis = createRedis(loadConfig(), { connectionName: 'stall-probe' });
    try {
      await redis.hset(payload.bullJobKey, 'stc', String(JOBS_MAX_STALLED + 1));
    } finally {
      await redis.quit();
    }
    throw new Error('cut off');
  }

  async onFinalFailure(_payload: unknown, job: { attempt: number }): Promise<void> {
    stallProbe.push({ event: 'final-failure', tenant: peekTenantId() ?? 'none', attempt: job.attempt });
  }
}

/** Quick retries: a job that fails (rather than waits) spends its five attempts within a second. */
const WORKER_ENV = { JOBS_RETRY_BACKOFF_MS: '50' };

/** Tenant-aware background jobs end to end: API enqueues, the real worker runs them. */
describe('tenant jobs', () => {
  let api: TestApi;
  let worker: INestApplicationContext | undefined;
  let redis: RedisClient;

  beforeAll(async () => {
    redis = createRedis(loadConfig(), { maxRetriesPerRequest: null, connectionName: 'jobs-test' });
    // Leftovers of an earlier, interrupted run must not be mistaken for this run's jobs.
    const stale = new FairQueue({ name: loadConfig().JOBS_QUEUE_NAME, bullQueueName: JOBS_KEYS.queueName, connection: redis });
    await stale.obliterate();
    await stale.close();
    api = await startTestApi();
  });
  afterAll(async () => {
    await worker?.close();
    await api.close();
    await redis.quit();
  });

  async function seedTenant(orders: number): Promise<{ tenant: TenantRecord; token: string; orderIds: string[]; customerId: string }> {
    const tenant = await createTenant(api, { tier: (['free', 'pro', 'enterprise'] as const)[orders % 3] });
    const token = tokenFor(api, tenant);
    const customer = await call(api.server, 'post', '/v1/customers', token, { email: 'jobs@x.test', name: 'Jobs' });
    const orderIds: string[] = [];
    for (let i = 0; i < orders; i++) {
      const order = await call(api.server, 'post', '/v1/orders', token, { customerId: customer.body.id, totalCents: 100 * (i + 1), currency: 'EUR' });
      orderIds.push(order.body.id);
    }
    return { tenant, token, orderIds, customerId: customer.body.id };
  }

  it('runs each job in its own tenant: exports and totals see only that tenant’s rows', async () => {
    const tenants = await Promise.all([2, 3, 4, 5, 6, 7].map(seedTenant));
    const exports: Array<{ token: string; id: string; orderIds: string[] }> = [];
    // Interleaved: every tenant asks for three exports and a recalculation before any job runs.
    for (let round = 0; round < 3; round++) {
      for (const t of tenants) {
        const response = await call(api.server, 'post', '/v1/exports', t.token);
        expect(response.status).toBe(202);
        expect(response.body.status).toBe('pending');
        exports.push({ token: t.token, id: response.body.id, orderIds: t.orderIds });
        if (round === 0) expect((await call(api.server, 'post', '/v1/customer-totals/recalculate', t.token)).status).toBe(202);
      }
    }

    worker = await startTestWorker(WORKER_ENV, [PlatformProbeHandler, StallProbeHandler]);

    for (const job of exports) {
      const done = await eventually(async () => {
        const response = await call(api.server, 'get', `/v1/exports/${job.id}`, job.token);
        return response.body.status === 'completed' ? response.body : undefined;
      }, `export ${job.id}`);
      expect(done.rowCount).toBe(job.orderIds.length);
      const csv = await call(api.server, 'get', done.download, job.token);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      const ids = csv.text.trim().split('\n').slice(1).map((line) => line.split(',')[0]);
      expect(ids.sort()).toEqual([...job.orderIds].sort());
    }
    for (const t of tenants) {
      const totals = await eventually(async () => {
        const response = await call(api.server, 'get', '/v1/customer-totals', t.token);
        return response.body.items.length ? response.body.items : undefined;
      }, 'totals');
      const expected = (t.orderIds.length * (t.orderIds.length + 1) * 100) / 2;
      expect(totals).toEqual([expect.objectContaining({ customerId: t.customerId, orderCount: t.orderIds.length, totalCents: expected })]);
    }
    // Every run is in its tenant's own audit trail, and only there. An export can run before its
    // request's transaction has committed, fail ("not recorded yet") and succeed on its retry: that
    // failed run is recorded too, so the three successes are counted, and every entry is the tenant's.
    for (const t of tenants) {
      const runs = await eventually(async () => {
        const response = await call(api.server, 'get', `/v1/audit?action=${encodeURIComponent('job.run orders.export')}`, t.token);
        const items = response.body.items as any[];
        return items.filter((entry) => entry.outcome === 'succeeded').length === 3 ? items : undefined;
      }, 'export runs in the audit trail');
      expect(new Set(runs.map((entry: any) => [entry.actor.kind, entry.resolution.via, entry.resolution.registry.tenantId].join(' ')))).toEqual(new Set([`job job ${t.tenant.id}`]));
      const succeeded = runs.filter((entry: any) => entry.outcome === 'succeeded');
      expect(new Set(succeeded.map((entry: any) => entry.resource.id)).size).toBe(3);
      expect(runs.every((entry: any) => entry.outcome === 'succeeded' || entry.outcome === 'failed')).toBe(true);
    }
  });

  it("another tenant's export is a 404 like a missing one, also for its content", async () => {
    const [a, b] = await Promise.all([seedTenant(1), seedTenant(1)]);
    const requested = await call(api.server, 'post', '/v1/exports', a.token);
    for (const path of [`/v1/exports/${requested.body.id}`, `/v1/exports/${requested.body.id}/content`]) {
      expectProblem(await call(api.server, 'get', path, b.token), 404, 'export_not_found');
    }
  });

  it('does not run a suspended tenant’s job, and runs it once the tenant is reactivated', async () => {
    const t = await seedTenant(1);
    await call(api.server, 'post', `/v1/admin/jobs/tenants/${t.tenant.id}/pause`, operatorToken(api));
    const requested = await call(api.server, 'post', '/v1/exports', t.token);
    await api.admin.suspend(t.tenant.id);
    await call(api.server, 'post', `/v1/admin/jobs/tenants/${t.tenant.id}/resume`, operatorToken(api));

    const bull = new Queue(JOBS_KEYS.queueName, { connection: redis, prefix: JOBS_KEYS.bullPrefix });
    try {
      await eventually(async () => {
        // Its job id is the export's with the recording transaction's id after it.
        const [id] = (await bull.getJobs(['delayed', 'waiting', 'active'])).map((job) => job.id).filter((id) => id?.startsWith(`${t.tenant.id}.${requested.body.id}-`));
        const job = id ? await bull.getJob(id) : undefined;
        return job && (await job.getState()) === 'delayed' ? job : undefined;
      }, 'the parked job');
    } finally {
      await bull.close();
    }
    await api.admin.reactivate(t.tenant.id);
    const pending = await call(api.server, 'get', `/v1/exports/${requested.body.id}`, t.token);
    expect(pending.body.status).toBe('pending');
    const done = await eventually(async () => {
      const response = await call(api.server, 'get', `/v1/exports/${requested.body.id}`, t.token);
      return response.body.status === 'completed' ? response.body : undefined;
    }, 'the export after reactivation');
    expect(done.rowCount).toBe(1);
  });

  it('runs a platform job with no tenant context, and refuses a job whose envelope names another tenant', async () => {
    const [a, b] = await Promise.all([seedTenant(1), seedTenant(1)]);
    const fq = new FairQueue({ name: loadConfig().JOBS_QUEUE_NAME, bullQueueName: JOBS_KEYS.queueName, connection: redis });
    try {
      await fq.enqueue(PLATFORM_KEY, { name: PROBE_JOB, data: { v: 1, tenantId: null, userId: 'ops', payload: { marker: 'p1' } }, jobId: 'probe-p1' });
      const seen = await eventually(async () => platformRuns.find((run) => run.marker === 'p1'), 'the platform job');
      expect(seen.tenant).toBe('none');

      // A job buffered under A whose envelope claims B must not run as either.
      await fq.enqueue(a.tenant.id, { name: 'orders.export', data: { v: 1, tenantId: b.tenant.id, userId: 'forged', payload: { exportId: a.orderIds[0] } }, jobId: 'forged-1' });
      const bull = new Queue(JOBS_KEYS.queueName, { connection: redis, prefix: JOBS_KEYS.bullPrefix });
      try {
        const failed = await eventually(async () => {
          if ((await bull.getJobState(`${a.tenant.id}.forged-1`)) !== 'failed') return undefined;
          // Read after it failed: a job read before its state moved carries no reason yet.
          return bull.getJob(`${a.tenant.id}.forged-1`);
        }, 'the forged job');
        expect(failed.failedReason).toBe('job tenant does not match its queue');
      } finally {
        await bull.close();
      }
    } finally {
      await fq.close();
    }
  });

  it("tells the handler of a job failed for stalling too often, in the job's tenant, as after its last attempt", async () => {
    const t = await seedTenant(1);
    const fq = new FairQueue({ name: loadConfig().JOBS_QUEUE_NAME, bullQueueName: JOBS_KEYS.queueName, connection: redis });
    const bull = new Queue(JOBS_KEYS.queueName, { connection: redis, prefix: JOBS_KEYS.bullPrefix });
    try {
      const bullJobKey = `${JOBS_KEYS.bullPrefix}:${JOBS_KEYS.queueName}:${t.tenant.id}.stall-1`;
      await fq.enqueue(t.tenant.id, { name: STALL_PROBE_JOB, data: { v: 1, tenantId: t.tenant.id, userId: 'u', payload: { bullJobKey } }, jobId: 'stall-1' });
      const failed = await eventually(async () => ((await bull.getJobState(`${t.tenant.id}.stall-1`)) === 'failed' ? bull.getJob(`${t.tenant.id}.stall-1`) : undefined), 'the stalled job failed');
      expect(failed?.failedReason).toBe(`job stalled more than ${JOBS_MAX_STALLED} times`);
      // One run (the one "killed"); the second take failed it without running it, and the hook ran.
      const hooked = await eventually(async () => stallProbe.find((entry) => entry.event === 'final-failure'), 'the final-failure hook');
      expect(stallProbe.filter((entry) => entry.event === 'run')).toHaveLength(1);
      expect(hooked.tenant).toBe(t.tenant.id);
    } finally {
      await bull.close();
      await fq.close();
    }
  });

  it('waits, spending no attempt, for an export whose row commits long after its job first ran', async () => {
    const t = await seedTenant(1);
    const exportId = randomUUID();
    const fq = new FairQueue({ name: loadConfig().JOBS_QUEUE_NAME, bullQueueName: JOBS_KEYS.queueName, connection: redis });
    try {
      // As `POST /v1/exports` does: the job first, its row in a transaction that commits after.
      await fq.enqueue(t.tenant.id, { name: 'orders.export', data: { v: 1, tenantId: t.tenant.id, userId: 'u', payload: { exportId } }, jobId: exportId });
      const started = Date.now();
      // While it waits, its window slot is back (a write that rolled back would keep it for ten
      // minutes); the job is still the tenant's, in BullMQ.
      await eventually(async () => ((await fq.tenantStats(t.tenant.id)).inFlight === 0 && (await fq.bullJobIds(t.tenant.id)).length === 1 ? true : undefined), 'the waiting job giving its slot back', 30);
      // Longer than all five attempts take with these quick retries.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 2000 - (Date.now() - started))));
    } finally {
      await fq.close();
    }
    await runWithTenant(tenantContextOf(t.tenant, 'u'), () =>
      api.app.get(TenantData).transaction((tx) => tx.statement("INSERT INTO order_exports (tenant_id, id, status, requested_by) VALUES ($1, $2, 'pending', 'u')", [exportId])),
    );
    const done = await eventually(async () => {
      const response = await call(api.server, 'get', `/v1/exports/${exportId}`, t.token);
      return response.body.status === 'pending' ? undefined : response.body;
    }, 'the late export');
    expect(done).toMatchObject({ status: 'completed', rowCount: 1 });
  });

  it('drains a running job on graceful shutdown before the worker stops', async () => {
    const fq = new FairQueue({ name: loadConfig().JOBS_QUEUE_NAME, bullQueueName: JOBS_KEYS.queueName, connection: redis });
    try {
      await fq.enqueue(PLATFORM_KEY, { name: PROBE_JOB, data: { v: 1, tenantId: null, userId: 'ops', payload: { marker: 'slow', sleepMs: 1500 } }, jobId: 'probe-slow' });
      await eventually(async () => platformRuns.find((run) => run.marker === 'slow'), 'the slow job to start');
      await worker?.close();
      worker = undefined;
      expect(platformRuns.map((run) => run.marker)).toContain('slow:done');
    } finally {
      await fq.close();
    }
    worker = await startTestWorker(WORKER_ENV, [PlatformProbeHandler, StallProbeHandler]);
  });

  it('shows backlog to the operator, pauses and resumes a tenant, and refuses past the backlog limit with 429 and no write', async () => {
    const t = await seedTenant(1);
    const operator = operatorToken(api);
    const paused = await call(api.server, 'post', `/v1/admin/jobs/tenants/${t.tenant.id}/pause`, operator);
    expect(paused.body.paused).toBe(true);
    await call(api.server, 'post', '/v1/exports', t.token);
    await call(api.server, 'post', '/v1/exports', t.token);

    const overview = await call(api.server, 'get', '/v1/admin/jobs', operator);
    const mine = overview.body.tenants.find((s: { tenant: string }) => s.tenant === t.tenant.id);
    expect(mine).toMatchObject({ backlog: 2, paused: true });
    expect(mine.oldestWaitMs).toBeGreaterThanOrEqual(0);

    const limited = await call(api.server, 'put', `/v1/admin/jobs/tenants/${t.tenant.id}/policy`, operator, { maxBacklog: 2 });
    expect(limited.status).toBe(200);
    const before = await call(api.server, 'get', '/v1/exports/00000000-0000-7000-8000-000000000000', t.token);
    expect(before.status).toBe(404);
    const refused = await call(api.server, 'post', '/v1/exports', t.token);
    expectProblem(refused, 429, 'job_backlog_full');

    expectProblem(await call(api.server, 'put', `/v1/admin/jobs/tenants/${t.tenant.id}/policy`, operator, { weight: -1 }), 400, 'validation_failed');
    expectProblem(await call(api.server, 'get', `/v1/admin/jobs/tenants/${t.tenant.id}`, t.token), 403, 'operator_required');

    await call(api.server, 'delete', `/v1/admin/jobs/tenants/${t.tenant.id}/policy`, operator);
    const resumed = await call(api.server, 'post', `/v1/admin/jobs/tenants/${t.tenant.id}/resume`, operator);
    expect(resumed.body.paused).toBe(false);
  });

  it('acts on the tenant however its id is cased, and answers 404 for a tenant there is not', async () => {
    const t = await seedTenant(1);
    const operator = operatorToken(api);
    const upper = t.tenant.id.toUpperCase();
    const paused = await call(api.server, 'post', `/v1/admin/jobs/tenants/${upper}/pause`, operator);
    expect(paused.status).toBe(200);
    expect((await call(api.server, 'get', `/v1/admin/jobs/tenants/${t.tenant.id}`, operator)).body).toMatchObject({ tenant: t.tenant.id, paused: true });
    expect((await call(api.server, 'put', `/v1/admin/jobs/tenants/${upper}/policy`, operator, { weight: 7 })).status).toBe(200);
    expect((await call(api.server, 'get', `/v1/admin/jobs/tenants/${t.tenant.id}`, operator)).body.policy).toMatchObject({ weight: 7 });
    // Back to its tier's weight at once (a pro tenant: 2), though this API applied it a moment ago.
    expect((await call(api.server, 'delete', `/v1/admin/jobs/tenants/${upper}/policy`, operator)).body.policy).toMatchObject({ weight: 2 });
    expect((await call(api.server, 'post', `/v1/admin/jobs/tenants/${upper}/resume`, operator)).body.paused).toBe(false);
    for (const [method, path] of [['get', ''], ['post', '/pause'], ['post', '/resume'], ['put', '/policy'], ['delete', '/policy']] as const) {
      const response = await call(api.server, method, `/v1/admin/jobs/tenants/${randomUUID()}${path}`, operator, method === 'put' ? { weight: 2 } : undefined);
      expectProblem(response, 404, 'tenant_not_found');
    }
  });
});

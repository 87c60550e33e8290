import { clearPrivateJobQueue } from './support/private-job-queue';
import { TenantRecord } from '@bulkhead/control-plane';
import { databaseNameFor, withPg } from '@bulkhead/database';
import { jobsQueueKeys } from '@bulkhead/jobs';
import { loadConfig } from '@bulkhead/config';
import { INestApplicationContext } from '@nestjs/common';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { startFaultPostgres, FaultPostgres } from './support/fault-services';
import { call } from './support/http';
import { sleep } from './support/request-load';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';
import { eventually, startTestWorker } from './support/test-worker';

/**
 * Retries on main were 5 attempts, exponential from 1 s, every one spent by `connect
 * ECONNREFUSED`: an outage longer than that budget failed accepted exports and left their rows
 * pending. Here time runs 100 times faster, on a cluster of this test's own: every backoff is a
 * hundredth of its default (retries from 10 ms, outage waits from 10 ms doubling to 300 ms
 * instead of 1 s to 30 s), and PostgreSQL stays away for 6 s, which is a 10-minute outage at the
 * default settings: about two dozen outage waits per job, against a retry budget of 0.15 s.
 */
const COMPRESSION = 100;
const TIMING = {
  JOBS_RETRY_BACKOFF_MS: String(1000 / COMPRESSION),
  JOBS_OUTAGE_BACKOFF_MS: String(1000 / COMPRESSION),
  JOBS_OUTAGE_BACKOFF_MAX_MS: String(30_000 / COMPRESSION),
  JOBS_ATTEMPTS: '5',
};
const OUTAGE_MS = (10 * 60_000) / COMPRESSION;

describe('exports across a 10-minute PostgreSQL outage (time compressed 100x), far longer than the retry budget', () => {
  let pg: FaultPostgres;
  let api: TestApi;
  let worker: INestApplicationContext;
  let redis: Redis;
  let bull: Queue;
  const tenants: Array<{ tenant: TenantRecord; token: string }> = [];

  beforeAll(async () => {
    await clearPrivateJobQueue();
    pg = await startFaultPostgres();
    const env = { ...pg.env, ...TIMING };
    api = await startTestApi(env);
    worker = await startTestWorker(env);
    redis = new Redis(process.env.REDIS_URL as string, { maxRetriesPerRequest: null });
    const keys = jobsQueueKeys(loadConfig());
    bull = new Queue(keys.queueName, { connection: redis, prefix: keys.bullPrefix });
    // The shared pool and a silo with its own pool.
    for (const tier of ['free', 'enterprise'] as const) {
      const tenant = await createTenant(api, { tier });
      const token = tokenFor(api, tenant);
      const customer = await call(api.server, 'post', '/v1/customers', token, { email: 'outage@x.test', name: 'Outage' });
      for (const totalCents of [100, 200, 300]) {
        expect((await call(api.server, 'post', '/v1/orders', token, { customerId: customer.body.id, totalCents, currency: 'EUR' })).status).toBe(201);
      }
      tenants.push({ tenant, token });
    }
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await bull?.close();
    await redis?.quit();
    await pg?.destroy();
    await clearPrivateJobQueue();
  });

  async function exportOf(token: string, id: string): Promise<{ status: string; rowCount: number | null; failureReason: string | null }> {
    return (await call(api.server, 'get', `/v1/exports/${id}`, token)).body;
  }

  /** Rows left pending in the cluster database and in the silo, read past RLS as the superuser. */
  async function pendingRows(): Promise<number> {
    let pending = 0;
    for (const database of ['bulkhead_fault', ...tenants.filter((t) => t.tenant.isolation === 'silo').map((t) => databaseNameFor(t.tenant.id, 'bulkhead_fault'))]) {
      pending += await withPg(pg.adminUrl(database), 'outage-test', async (client) => {
        const result = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM order_exports WHERE status = 'pending'");
        return result.rows[0].n;
      });
    }
    return pending;
  }

  it('completes every export accepted before and during the outage, spends no attempt on it, and leaves no row pending', async () => {
    const operator = operatorToken(api);
    const accepted: Array<{ token: string; id: string; tenantId: string }> = [];
    // Held in their buffers, so the outage finds them all still to run.
    for (const t of tenants) await call(api.server, 'post', `/v1/admin/jobs/tenants/${t.tenant.id}/pause`, operator);
    for (let round = 0; round < 4; round++) {
      for (const t of tenants) {
        const response = await call(api.server, 'post', '/v1/exports', t.token);
        expect(response.status).toBe(202);
        accepted.push({ token: t.token, id: response.body.id, tenantId: t.tenant.id });
      }
    }

    // Requests keep coming while the database goes away: some are accepted, the rest refused with 503.
    let requesting = true;
    const refused: number[] = [];
    const during = (async () => {
      for (let round = 0; requesting; round++) {
        const t = tenants[round % tenants.length];
        const response = await call(api.server, 'post', '/v1/exports', t.token);
        if (response.status === 202) accepted.push({ token: t.token, id: response.body.id, tenantId: t.tenant.id });
        else refused.push(response.status);
        await sleep(25);
      }
    })();
    await sleep(100);
    await pg.stop();
    // The operator routes need only Redis: release the held jobs into the outage.
    for (const t of tenants) expect((await call(api.server, 'post', `/v1/admin/jobs/tenants/${t.tenant.id}/resume`, operator)).status).toBe(200);
    await eventually(async () => ((await bull.getDelayedCount()) > 0 ? true : undefined), 'jobs parked by the outage');
    await sleep(OUTAGE_MS);
    requesting = false;
    await during;
    const failedDuringOutage = await bull.getFailedCount();
    await pg.start();

    expect(failedDuringOutage).toBe(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(new Set(refused)).toEqual(new Set([503]));
    for (const { token, id } of accepted) {
      const done = await eventually(async () => {
        const state = await exportOf(token, id);
        return state.status === 'pending' ? undefined : state;
      }, `export ${id}`);
      expect(done).toMatchObject({ status: 'completed', rowCount: 3, failureReason: null });
    }
    // Refused requests enqueue nothing (the job is enqueued inside the transaction that could not start): none stays pending.
    await eventually(async () => ((await pendingRows()) === 0 ? true : undefined), 'no export row pending');
    // The outage spent none of their attempts: each completed on its first real run (BullMQ counts the completing run too).
    // An export's row commits inside its run, before BullMQ records the run: wait for the job's own state.
    const attempts = await Promise.all(
      accepted.map(({ tenantId, id }) =>
        eventually(async () => {
          // Its job id is the export's with the recording transaction's id after it.
          const [job] = (await bull.getJobs(['completed'])).filter((completed) => completed.id?.startsWith(`${tenantId}.${id}-`));
          return job?.attemptsMade;
        }, `job ${id} completed`),
      ),
    );
    expect(attempts.filter((made) => made !== 1)).toEqual([]);
  }, 60_000);

  it('marks an export failed, with a reason the tenant reads, when its job fails for good', async () => {
    const pool = tenants.find((t) => t.tenant.isolation === 'pool')!;
    // A real failure, not an outage: the runtime role may no longer read orders.
    await withPg(pg.adminUrl('bulkhead_fault'), 'outage-test', (client) => client.query('REVOKE SELECT ON orders FROM bulkhead_app'));
    try {
      const requested = await call(api.server, 'post', '/v1/exports', pool.token);
      expect(requested.status).toBe(202);
      const failed = await eventually(async () => {
        const state = await exportOf(pool.token, requested.body.id);
        return state.status === 'pending' ? undefined : state;
      }, 'the export to fail');
      expect(failed).toMatchObject({ status: 'failed', rowCount: null, failureReason: expect.stringContaining('could not be produced') });
      // The row is marked inside the last attempt, before BullMQ records that attempt's failure.
      const job = await eventually(async () => {
        // Its job id is the export's with the recording transaction's id after it.
        const [found] = (await bull.getJobs(['failed'])).filter((failed) => failed.id?.startsWith(`${pool.tenant.id}.${requested.body.id}-`));
        return found;
      }, 'the job to be failed');
      expect(job.attemptsMade).toBe(Number(TIMING.JOBS_ATTEMPTS));
    } finally {
      await withPg(pg.adminUrl('bulkhead_fault'), 'outage-test', (client) => client.query('GRANT SELECT ON orders TO bulkhead_app'));
    }
  }, 30_000);
});

import { clearPrivateJobQueue } from './support/private-job-queue';
import { loadConfig } from '@bulkhead/config';
import { TenantRecord } from '@bulkhead/control-plane';
import { FairQueue } from '@bulkhead/fair-queue';
import { JobHandler, JobHandlerProvider, jobsQueueKeys } from '@bulkhead/jobs';
import { createRedis, type RedisClient } from '@bulkhead/redis';
import { peekTenantId } from '@bulkhead/tenancy';
import { Injectable, INestApplicationContext } from '@nestjs/common';
import { Queue } from 'bullmq';
import { createTenant, startTestApi, TestApi } from './support/test-app';
import { eventually, startTestWorker } from './support/test-worker';

const PROBE_JOB = 'test.suspension-probe';
const runs: string[] = [];

@JobHandlerProvider()
@Injectable()
class SuspensionProbeHandler implements JobHandler<{ marker: string }> {
  readonly name = PROBE_JOB;
  readonly scope = 'tenant' as const;

  async handle(payload: { marker: string }): Promise<void> {
    runs.push(`${peekTenantId()}:${payload.marker}`);
  }
}

/**
 * Suspended tenants' parked jobs kept their fair-queue slots: three suspended tenants at the
 * per-tenant cap of 4 held 12 slots, more than this window of 8, and no tenant's job was
 * admitted any more. Now their jobs wait holding no slot and run after reactivation.
 */
describe("suspended tenants' jobs hold no slot of the admission window", () => {
  const WINDOW = 8;
  const PER_SUSPENDED = 6;
  let api: TestApi;
  let worker: INestApplicationContext | undefined;
  let redis: RedisClient;
  let fq: FairQueue;
  let bull: Queue;

  beforeAll(async () => {
    await clearPrivateJobQueue();
    redis = createRedis(loadConfig(), { maxRetriesPerRequest: null, connectionName: 'jobs-suspended-test' });
    const keys = jobsQueueKeys(loadConfig());
    fq = new FairQueue({ name: loadConfig().JOBS_QUEUE_NAME, bullQueueName: keys.queueName, connection: redis });
    bull = new Queue(keys.queueName, { connection: redis, prefix: keys.bullPrefix });
    api = await startTestApi();
  });
  afterAll(async () => {
    await worker?.close();
    await api.close();
    await bull.close();
    await fq.close();
    await clearPrivateJobQueue();
    await redis.quit();
  });

  const enqueue = (tenant: TenantRecord, count: number) =>
    fq.enqueueBulk(
      Array.from({ length: count }, (_, i) => ({ tenant: tenant.id, name: PROBE_JOB, data: { v: 1, tenantId: tenant.id, userId: 'u', payload: { marker: `m${i}` } }, jobId: `probe-${i}` })),
    );

  it('keeps serving active tenants while suspended ones have a backlog, and runs the suspended ones once reactivated', async () => {
    const suspended = await Promise.all([0, 1, 2].map(() => createTenant(api)));
    const active = await createTenant(api);
    for (const tenant of suspended) {
      await api.admin.suspend(tenant.id);
      await enqueue(tenant, PER_SUSPENDED);
    }
    worker = await startTestWorker({ JOBS_ADMISSION_WINDOW: String(WINDOW) }, [SuspensionProbeHandler]);
    // Every suspended tenant has had a job taken and parked.
    await eventually(async () => {
      const parked = await bull.getJobs(['delayed']);
      return new Set(parked.map((job) => job.data.tenant)).size === suspended.length ? true : undefined;
    }, "the suspended tenants' parked jobs");

    await enqueue(active, 10);
    await eventually(async () => (runs.filter((run) => run.startsWith(`${active.id}:`)).length === 10 ? true : undefined), "the active tenant's jobs");
    for (const tenant of suspended) {
      const stats = await fq.tenantStats(tenant.id);
      expect({ inFlight: stats.inFlight, held: stats.held, paused: stats.paused }).toEqual({ inFlight: 0, held: true, paused: false });
      expect(stats.backlog).toBeGreaterThan(0);
    }
    expect(runs.filter((run) => !run.startsWith(`${active.id}:`))).toEqual([]);

    // Reactivated through the registry alone: no operator action on the queue.
    for (const tenant of suspended) await api.admin.reactivate(tenant.id);
    await eventually(async () => (runs.length === 10 + suspended.length * PER_SUSPENDED ? true : undefined), "the reactivated tenants' jobs");
    expect(new Set(runs).size).toBe(runs.length);
    for (const tenant of suspended) expect(await fq.tenantStats(tenant.id)).toMatchObject({ held: false, backlog: 0 });
    await eventually(async () => ((await fq.stats()).inFlight === 0 ? true : undefined), 'every slot back');
  });
});

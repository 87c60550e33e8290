import { openPrivateJobQueue, type PrivateJobQueue } from './support/private-job-queue';
import { loadConfig } from '@bulkhead/config';
import { TenantRecord } from '@bulkhead/control-plane';
import { withPg } from '@bulkhead/database';
import { JobHandler, JobHandlerProvider } from '@bulkhead/jobs';
import { peekTenantId, TenantData } from '@bulkhead/tenancy';
import { Injectable, INestApplicationContext } from '@nestjs/common';
import { createTenant, startTestApi, TestApi } from './support/test-app';
import { eventually, startTestWorker } from './support/test-worker';

const PROBE_JOB = 'test.held-probe';
const runs: string[] = [];

/** Reads the tenant's own data, as any job does: its placement has to be reachable. */
@JobHandlerProvider()
@Injectable()
class HeldProbeHandler implements JobHandler<{ marker: string }> {
  readonly name = PROBE_JOB;
  readonly scope = 'tenant' as const;

  constructor(private readonly data: TenantData) {}

  async handle(payload: { marker: string }): Promise<void> {
    await this.data.transaction((tx) => tx.statement('SELECT count(*) FROM customers WHERE tenant_id = $1'));
    runs.push(`${peekTenantId()}:${payload.marker}`);
  }
}

/**
 * Jobs that wait because of their tenant's state kept their fair-queue slots, and a few such
 * tenants filled the window and stopped everyone's dispatch:
 * - three suspended tenants at the per-tenant cap of 4 held 12 slots of this window of 8;
 * - with the databases of three silo tenants refusing connections, their outage-parked jobs
 *   (four each) held 12 slots too, until they were reachable again.
 * Now their jobs wait holding no slot (the tenant held), and run once the tenant is back.
 */
describe('jobs waiting on their tenant (suspended, its database unreachable) hold no slot of the admission window', () => {
  const WINDOW = 8;
  const PER_SUSPENDED = 6;
  const PER_UNREACHABLE = 10;
  const CAP = 4;
  const config = loadConfig();
  let api: TestApi;
  let worker: INestApplicationContext | undefined;
  let queue: PrivateJobQueue;
  const unreachable: TenantRecord[] = [];

  /** New connections to the silo's database are refused (53300) and the worker's are ended; -1 opens it again. */
  const connectionLimit = (tenant: TenantRecord, limit: number) =>
    withPg(config.DATABASE_ADMIN_URL, 'jobs-held-test', async (client) => {
      await client.query(`ALTER DATABASE "${tenant.databaseName}" CONNECTION LIMIT ${limit}`);
      if (limit === 0) await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [tenant.databaseName]);
    });

  beforeAll(async () => {
    queue = await openPrivateJobQueue('jobs-held-test');
    api = await startTestApi();
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    runs.length = 0;
  });
  afterAll(async () => {
    for (const tenant of unreachable) await connectionLimit(tenant, -1);
    await api.close();
    await queue?.close();
  });

  const enqueue = (tenant: TenantRecord, count: number) =>
    queue.fq.enqueueBulk(
      Array.from({ length: count }, (_, i) => ({ tenant: tenant.id, name: PROBE_JOB, data: { v: 1, tenantId: tenant.id, userId: 'u', payload: { marker: `m${i}` } }, jobId: `probe-${i}` })),
    );

  it('keeps serving active tenants while suspended ones have a backlog, and runs the suspended ones once reactivated', async () => {
    const suspended = await Promise.all([0, 1, 2].map(() => createTenant(api)));
    const active = await createTenant(api);
    for (const tenant of suspended) {
      await api.admin.suspend(tenant.id);
      await enqueue(tenant, PER_SUSPENDED);
    }
    worker = await startTestWorker({ JOBS_ADMISSION_WINDOW: String(WINDOW) }, [HeldProbeHandler]);
    // Every suspended tenant has had a job taken and parked.
    await eventually(async () => {
      const parked = await queue.bull.getJobs(['delayed']);
      return new Set(parked.map((job) => job.data.tenant)).size === suspended.length ? true : undefined;
    }, "the suspended tenants' parked jobs");

    await enqueue(active, 10);
    await eventually(async () => (runs.filter((run) => run.startsWith(`${active.id}:`)).length === 10 ? true : undefined), "the active tenant's jobs");
    for (const tenant of suspended) {
      const stats = await queue.fq.tenantStats(tenant.id);
      expect({ inFlight: stats.inFlight, held: stats.held, paused: stats.paused }).toEqual({ inFlight: 0, held: true, paused: false });
      expect(stats.backlog).toBeGreaterThan(0);
    }
    expect(runs.filter((run) => !run.startsWith(`${active.id}:`))).toEqual([]);

    // Reactivated through the registry alone: no operator action on the queue.
    for (const tenant of suspended) await api.admin.reactivate(tenant.id);
    await eventually(async () => (runs.length === 10 + suspended.length * PER_SUSPENDED ? true : undefined), "the reactivated tenants' jobs");
    expect(new Set(runs).size).toBe(runs.length);
    for (const tenant of suspended) expect(await queue.fq.tenantStats(tenant.id)).toMatchObject({ held: false, backlog: 0 });
    await eventually(async () => ((await queue.fq.stats()).inFlight === 0 ? true : undefined), 'every slot back');
  });

  it('keeps serving other tenants while some placements are unreachable, holds theirs within their cap, and runs every parked job once they are back', async () => {
    for (let i = 0; i < 3; i++) unreachable.push(await createTenant(api, { isolation: 'silo' }));
    const reachable = await createTenant(api);
    for (const tenant of unreachable) {
      await connectionLimit(tenant, 0);
      await enqueue(tenant, PER_UNREACHABLE);
    }
    worker = await startTestWorker({ JOBS_ADMISSION_WINDOW: String(WINDOW), JOBS_OUTAGE_BACKOFF_MS: '200', JOBS_OUTAGE_BACKOFF_MAX_MS: '1000' }, [HeldProbeHandler]);
    // Every unreachable tenant has had a job taken and parked.
    await eventually(async () => {
      const parked = await queue.bull.getJobs(['delayed']);
      return new Set(parked.map((job) => job.data.tenant)).size === unreachable.length ? true : undefined;
    }, "the unreachable tenants' parked jobs");

    await enqueue(reachable, 10);
    await eventually(async () => (runs.filter((run) => run.startsWith(`${reachable.id}:`)).length === 10 ? true : undefined), "the reachable tenant's jobs");
    expect(runs.filter((run) => !run.startsWith(`${reachable.id}:`))).toEqual([]);
    // Past a recheck, which lifts the holds whose wait is over while the outage lasts: the jobs
    // given back still count against the tenant's cap, so no more than it leave the buffer.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    for (const tenant of unreachable) {
      const inBullMq = (await queue.bull.getJobs(['delayed', 'waiting', 'active', 'prioritized'])).filter((job) => job.data.tenant === tenant.id);
      expect({ tenant: tenant.id, inBullMq: inBullMq.length <= CAP }).toEqual({ tenant: tenant.id, inBullMq: true });
      expect((await queue.fq.tenantStats(tenant.id)).backlog).toBeGreaterThanOrEqual(PER_UNREACHABLE - CAP);
    }

    for (const tenant of unreachable) await connectionLimit(tenant, -1);
    await eventually(async () => (runs.length === 10 + unreachable.length * PER_UNREACHABLE ? true : undefined), "the unreachable tenants' jobs, once reachable", 600);
    expect(new Set(runs).size).toBe(runs.length);
    for (const tenant of unreachable) {
      const stats = await eventually(async () => {
        const now = await queue.fq.tenantStats(tenant.id);
        return now.held ? undefined : now;
      }, 'the outage holds lifted', 600);
      expect(stats).toMatchObject({ backlog: 0, paused: false });
    }
    await eventually(async () => ((await queue.fq.stats()).inFlight === 0 ? true : undefined), 'every slot back');
  }, 90_000);
});

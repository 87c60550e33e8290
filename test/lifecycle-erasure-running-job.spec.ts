import { openPrivateJobQueue, type PrivateJobQueue } from './support/private-job-queue';
import { loadConfig } from '@bulkhead/config';
import { JobHandler, JobHandlerProvider, jobsQueueKeys } from '@bulkhead/jobs';
import { OFFBOARDING_STEPS, SagaLedger, SagaRunner } from '@bulkhead/lifecycle';
import { TenantData } from '@bulkhead/tenancy';
import { withPg } from '@bulkhead/database';
import { Injectable, INestApplicationContext } from '@nestjs/common';
import { createTenant, startTestApi, TestApi } from './support/test-app';
import { eventually, startTestWorker } from './support/test-worker';

const LONG_JOB = 'test.long-running';
const started: string[] = [];
const written: string[] = [];
let finish: () => void = () => undefined;
const finished = new Promise<void>((resolve) => (finish = resolve));

/** A tenant's job that runs until the test lets it finish: an export, a report, a slow import. */
@JobHandlerProvider()
@Injectable()
class LongRunningHandler implements JobHandler<{ marker: string }> {
  readonly name = LONG_JOB;
  readonly scope = 'tenant' as const;

  constructor(private readonly data: TenantData) {}

  async handle(payload: { marker: string }): Promise<void> {
    started.push(payload.marker);
    await finished;
    // Its result, written as it ends (the tenant's own rows): after the erasure, here.
    try {
      await this.data.transaction((tx) => tx.statement("INSERT INTO customers (id, tenant_id, name, email) VALUES (gen_random_uuid(), $1, 'late', 'late@example.com')"));
      written.push(payload.marker);
    } catch (error) {
      written.push(`error: ${(error as Error).message}`);
    }
  }
}

// The sweeper is off: the test runs the saga itself, one run at a time.
const ENV = { LIFECYCLE_SWEEP_MS: '3600000', LIFECYCLE_LEASE_MS: '2000', LIFECYCLE_FENCE_SETTLE_MS: '100' };

describe('offboarding a pool tenant whose job is still running (graceDays 0)', () => {
  const config = loadConfig();
  let api: TestApi;
  let worker: INestApplicationContext;
  let queue: PrivateJobQueue;

  beforeAll(async () => {
    queue = await openPrivateJobQueue('erasure-running-job-test');
    api = await startTestApi(ENV);
    worker = await startTestWorker(ENV, [LongRunningHandler]);
  }, 120_000);

  afterAll(async () => {
    finish();
    await worker?.close();
    await api?.close();
    await queue?.close();
  });

  it('a job of the tenant that started before the fence and writes after the erasure is refused: no row outlives the certificate', async () => {
    const tenant = await createTenant(api, { isolation: 'pool' });
    await queue.fq.enqueue(tenant.id, { name: LONG_JOB, data: { v: 1, tenantId: tenant.id, userId: 'u', payload: { marker: 'long' } }, jobId: 'long-1' });
    await eventually(async () => (started.includes('long') ? true : undefined), 'the job to start');
    const ledger = api.app.get(SagaLedger);
    const { saga } = await ledger.create({ tenantId: tenant.id, kind: 'offboarding', request: { model: 'pool', graceDays: 0 }, startedBy: 'test', steps: [...OFFBOARDING_STEPS] });
    const runner = api.app.get(SagaRunner);
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      outcomes.push(await runner.run(saga.id).catch((error: Error) => `threw: ${error.message}`));
      const s = await ledger.get(saga.id);
      if (s?.status !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const steps = await ledger.steps(saga.id);
    const keysDuring = await queue.redis.keys(`*${tenant.id}*`);
    finish();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const keysAfter = await queue.redis.keys(`*${tenant.id}*`);
    const rows = await withPg(config.DATABASE_ADMIN_URL.replace(/\/[^/]*$/, `/${new URL(config.DATABASE_URL).pathname.slice(1)}`), 'test', (c) => c.query('SELECT count(*)::int AS n FROM public.customers WHERE tenant_id = $1', [tenant.id]));
    const events = (await queue.redis.xrange(jobsQueueKeys(config).bullEvents, '-', '+')).filter(([, f]) => f.some((v) => v.includes(tenant.id)));
    expect({ outcomes, saga: (await ledger.get(saga.id))?.status, keysDuring, keysAfter, events }).toEqual({ outcomes: ['succeeded'], saga: 'succeeded', keysDuring: [], keysAfter: [], events: [] });
    expect(steps.map((s) => s.failures)).toEqual(OFFBOARDING_STEPS.map(() => 0));
    // The job's write after the certificate was refused, and nothing of the tenant is in the pool.
    expect(written).toEqual([expect.stringMatching(/^error: .*moved to another placement/)]);
    expect(rows.rows[0].n).toBe(0);
  }, 120_000);
});

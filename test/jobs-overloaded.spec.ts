import { openPrivateJobQueue, type PrivateJobQueue } from './support/private-job-queue';
import { JobHandler, JobHandlerProvider, JobInfo } from '@bulkhead/jobs';
import { TenantData } from '@bulkhead/tenancy';
import { Injectable, INestApplicationContext } from '@nestjs/common';
import { createTenant, startTestApi, TestApi } from './support/test-app';
import { eventually, startTestWorker } from './support/test-worker';

const CONTENDED_JOB = 'test.contended-probe';
const runs: Array<{ marker: string; attempt: number; outcome: string }> = [];

/**
 * On its first run, two units of work at once in a worker whose pool has one connection: the
 * second waits past the gate's budget and is shed (503 `overloaded`), as a job is when the
 * worker's connections are all held by other jobs (long exports) for longer than the budget.
 * Later runs need one connection and succeed.
 */
@JobHandlerProvider()
@Injectable()
class ContendedProbeHandler implements JobHandler<{ marker: string }> {
  readonly name = CONTENDED_JOB;
  readonly scope = 'tenant' as const;

  constructor(private readonly data: TenantData) {}

  async handle(payload: { marker: string }, job: JobInfo): Promise<void> {
    const first = !runs.some((run) => run.marker === payload.marker);
    try {
      if (first) {
        await Promise.all([
          this.data.transaction((tx) => tx.statement('SELECT pg_sleep(0.5), $1::uuid'), { readOnly: true }),
          this.data.transaction((tx) => tx.statement('SELECT $1::uuid'), { readOnly: true }),
        ]);
      } else {
        await this.data.transaction((tx) => tx.statement('SELECT $1::uuid'), { readOnly: true });
      }
      runs.push({ marker: payload.marker, attempt: job.attempt, outcome: 'ok' });
    } catch (error) {
      runs.push({ marker: payload.marker, attempt: job.attempt, outcome: (error as { code?: string }).code ?? String(error) });
      throw error;
    }
  }
}

/**
 * A job shed by the worker's own connection gate (`overloaded`: every connection held past the
 * wait budget) met a transient condition of the platform, not a failure of its own: it waits and
 * runs again without spending an attempt. It used to count as a failure, so a worker busy with
 * long jobs failed other jobs for good (an export left `failed`) after JOBS_ATTEMPTS sheds.
 */
describe('a job shed by the worker connection gate', () => {
  let api: TestApi;
  let worker: INestApplicationContext | undefined;
  let queue: PrivateJobQueue;

  beforeAll(async () => {
    queue = await openPrivateJobQueue('jobs-overloaded-test');
    api = await startTestApi();
  });
  afterAll(async () => {
    await worker?.close();
    await api.close();
    await queue?.close();
  });

  it('waits and runs again without spending an attempt', async () => {
    const tenant = await createTenant(api);
    worker = await startTestWorker(
      { DATABASE_POOL_MAX: '1', POOL_QUEUE_BUDGET_MS: '10', JOBS_ATTEMPTS: '1', JOBS_OUTAGE_BACKOFF_MS: '100', JOBS_OUTAGE_BACKOFF_MAX_MS: '200' },
      [ContendedProbeHandler],
    );
    const [enqueued] = await queue.fq.enqueueBulk([{ tenant: tenant.id, name: CONTENDED_JOB, data: { v: 1, tenantId: tenant.id, userId: 'u', payload: { marker: 'shed' } }, jobId: 'shed' }]);
    const state = await eventually(async () => {
      const current = await queue.bull.getJobState(enqueued.jobId);
      return current === 'completed' || current === 'failed' ? current : undefined;
    }, 'the job to finish');
    // The first run was shed, and only that: the proof the gate, not something else, stopped it.
    expect(runs[0]).toEqual({ marker: 'shed', attempt: 1, outcome: 'overloaded' });
    expect({ state, runs: runs.slice(1) }).toEqual({ state: 'completed', runs: [{ marker: 'shed', attempt: 1, outcome: 'ok' }] });
  });
});

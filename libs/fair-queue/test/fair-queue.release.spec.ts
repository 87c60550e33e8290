import { Worker } from 'bullmq';
import type { RedisClient as Redis } from '@bulkhead/redis';
import { createFairWorker, FairDispatcher, FairQueue, type FairJobData, type FairWorker } from '../src';
import { testRedis, uniqueName, waitFor } from './redis-test-utils';

describe('FairQueue slot release, reconciler and dispatcher loop (in-process workers)', () => {
  let redis: Redis;
  let fq: FairQueue;
  let dispatcher: FairDispatcher;
  let workers: Array<{ close(): Promise<void> }>;

  beforeAll(() => {
    redis = testRedis();
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    fq = new FairQueue({ name: uniqueName('release'), connection: redis, jobOptions: { attempts: 2 } });
    dispatcher = new FairDispatcher(fq, { window: 50, batchSize: 10, pollMs: 50, reconcileIntervalMs: 200 });
    workers = [];
  });
  afterEach(async () => {
    await dispatcher.stop();
    await Promise.all(workers.map((w) => w.close()));
    await fq.close();
    await fq.obliterate();
  });

  it('keeps the slot of a job that will be retried, releases it on completion or final failure', async () => {
    await fq.setPolicy('solo', { maxConcurrency: 1 });
    const events: string[] = [];
    const fair: FairWorker<string, void> = createFairWorker<string, void>(
      fq,
      async (job) => {
        events.push(`start ${job.data.payload} #${job.attemptsMade + 1}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (job.data.payload === 'flaky' && job.attemptsMade === 0) throw new Error('transient');
        if (job.data.payload === 'doomed') throw new Error('permanent');
      },
      { concurrency: 5 },
    );
    workers.push(fair);
    for (const payload of ['flaky', 'doomed', 'fine']) await fq.enqueue('solo', { name: 'step', data: payload });
    dispatcher.start();

    await waitFor(async () => events.length === 5 && (await fq.stats()).inFlight === 0);
    // Cap 1 and the slot kept across the retry: attempts never interleave across jobs.
    expect(events).toEqual(['start flaky #1', 'start flaky #2', 'start doomed #1', 'start doomed #2', 'start fine #1']);
    expect(await fq.queue.getFailedCount()).toBe(1);
  });

  it('reconciles jobs finished by a worker that never released them', async () => {
    // A plain BullMQ worker: like a process killed right after completing, before releasing.
    const plain = new Worker<FairJobData>(fq.keys.queueName, async () => undefined, {
      connection: redis,
      prefix: fq.keys.bullPrefix,
    });
    workers.push(plain);
    await fq.setPolicy('leaky', { maxConcurrency: 2 });
    await fq.enqueueBulk(Array.from({ length: 6 }, (_, i) => ({ tenant: 'leaky', name: 'n', data: i })));
    dispatcher.start();

    // Only the reconciler frees slots here, so all six finishing proves it works.
    await waitFor(async () => (await fq.tenantStats('leaky')).backlog === 0 && (await fq.stats()).inFlight === 0);
    expect(await fq.queue.getCompletedCount()).toBe(0);
  });

  it('wakes on enqueue, stops gracefully with nothing left staged, and resumes on restart', async () => {
    const seen: string[] = [];
    workers.push(
      createFairWorker(fq, async (job) => {
        seen.push(job.data.tenant);
      }),
    );
    dispatcher.start();
    await fq.enqueue('a', { name: 'n', data: 1 });
    await waitFor(async () => seen.length === 1);

    await fq.enqueueBulk(Array.from({ length: 40 }, (_, i) => ({ tenant: `t${i % 4}`, name: 'n', data: i })));
    await dispatcher.stop();
    expect(dispatcher.running).toBe(false);
    expect((await fq.stats()).staged).toBe(0);

    dispatcher.start();
    await waitFor(async () => seen.length === 41 && (await fq.stats()).inFlight === 0);
    expect((await fq.stats()).backloggedTenants).toBe(0);
  });
});

import { DelayedError, Worker } from 'bullmq';
import type { RedisClient as Redis } from '@bulkhead/redis';
import { createFairWorker, FairDispatcher, FairQueue } from '../src';
import { testRedis, uniqueName, waitFor } from './redis-test-utils';

describe('FairQueue holds (a tenant stopped by its own state) and forgetting a tenant', () => {
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
    fq = new FairQueue({ name: uniqueName('hold'), connection: redis, defaultPolicy: { maxConcurrency: 4 } });
    workers = [];
  });
  afterEach(async () => {
    await dispatcher?.stop();
    await Promise.all(workers.map((w) => w.close()));
    await fq.close();
    await fq.obliterate();
  });

  const admittedTenants = async (batch: number) => (await dispatcher.dispatchBatch()).admitted.map((job) => job.data.tenant).slice(0, batch);

  it("serves everyone else while suspended tenants' jobs wait outside the window, and runs those once they are back", async () => {
    // Three suspended tenants at cap 4 could hold 12 slots: more than the window of 8.
    dispatcher = new FairDispatcher(fq, { window: 8, batchSize: 8, pollMs: 50, reconcileIntervalMs: 200 });
    const suspended = new Set(['s1', 's2', 's3']);
    const ran: string[] = [];
    workers.push(
      createFairWorker<number>(
        fq,
        async (job, token) => {
          const tenant = job.data.tenant;
          if (suspended.has(tenant)) {
            // What the jobs processor does with a suspended tenant's job.
            await fq.hold(tenant, [job]);
            await job.moveToDelayed(Date.now() + 100, token);
            throw new DelayedError();
          }
          ran.push(`${tenant}:${job.data.payload}`);
        },
        { concurrency: 16 },
      ),
    );
    for (const tenant of suspended) await fq.enqueueBulk(Array.from({ length: 10 }, (_, i) => ({ tenant, name: 'n', data: i })));
    dispatcher.start();
    await waitFor(async () => (await Promise.all([...suspended].map((t) => fq.tenantStats(t)))).every((s) => s.held));

    await fq.enqueueBulk(Array.from({ length: 20 }, (_, i) => ({ tenant: 'ok', name: 'n', data: i })));
    await waitFor(async () => ran.filter((r) => r.startsWith('ok:')).length === 20);
    for (const tenant of suspended) {
      const stats = await fq.tenantStats(tenant);
      // Parked in BullMQ, holding no slot; the rest still buffered, not admitted.
      expect({ tenant, inFlight: stats.inFlight, held: stats.held, paused: stats.paused }).toEqual({ tenant, inFlight: 0, held: true, paused: false });
      expect(stats.backlog).toBeGreaterThanOrEqual(6);
    }

    suspended.clear();
    for (const tenant of ['s1', 's2', 's3']) await fq.unhold(tenant);
    await waitFor(async () => ran.length === 50 && (await fq.stats()).inFlight === 0);
    // Each job once: the parked ones ran from BullMQ, the buffered ones were admitted after.
    expect(new Set(ran).size).toBe(50);
    expect((await fq.stats()).backloggedTenants).toBe(0);
  });

  it('keeps an operator pause and a hold apart: each is lifted only by its own counterpart', async () => {
    dispatcher = new FairDispatcher(fq, { window: 100, batchSize: 10 });
    await fq.setPolicy('x', { maxConcurrency: 10 });
    await fq.enqueueBulk(Array.from({ length: 4 }, (_, i) => ({ tenant: 'x', name: 'n', data: i })));
    await fq.pause('x');
    await fq.hold('x');
    await fq.resume('x');
    expect(await admittedTenants(10)).toEqual([]);
    expect(await fq.tenantStats('x')).toMatchObject({ paused: false, held: true, backlog: 4 });
    expect(await fq.backloggedTenants()).toEqual(['x']);

    await fq.pause('x');
    await fq.unhold('x');
    expect(await admittedTenants(10)).toEqual([]);
    expect(await fq.tenantStats('x')).toMatchObject({ paused: true, held: false });

    // Enqueue does not bring back a held tenant either.
    await fq.resume('x');
    await fq.hold('x');
    await fq.enqueue('x', { name: 'n', data: 5 });
    expect(await admittedTenants(10)).toEqual([]);
    await fq.unhold('x');
    expect(await admittedTenants(10)).toEqual(['x', 'x', 'x', 'x', 'x']);
    // A job given back twice frees one slot.
    const given = { tenant: 'x', id: (await fq.queue.getJobs(['waiting']))[0].id as string };
    expect(await fq.hold('x', [given])).toBe(1);
    expect(await fq.hold('x', [given])).toBe(0);
    expect((await fq.stats()).inFlight).toBe(4);
  });

  it("keeps the longest wait asked for beside a hold, by Redis' clock: not due before it, dropped by a hold without one, an unhold or a forgotten tenant", async () => {
    const waitOf = async (tenant: string) => (await fq.heldTenants()).find((held) => held.tenant === tenant)?.until;
    const [seconds] = await redis.time();
    const now = Number(seconds) * 1000;
    await fq.hold('o', [], 60_000);
    await fq.hold('s');
    expect(await waitOf('s')).toBeNull();
    const long = (await waitOf('o')) as number;
    expect(long).toBeGreaterThanOrEqual(now + 59_000);
    // A shorter wait asked for later (another job's first outage wait) does not cut it short.
    await fq.hold('o', [], 1_000);
    expect(await waitOf('o')).toBe(long);
    expect(await fq.unhold('o', { onlyIfDue: true })).toBe(false);
    expect((await fq.tenantStats('o')).held).toBe(true);
    // The tenant's state now holds it, whatever the outage said; its state alone lifts it.
    await fq.hold('o');
    expect(await waitOf('o')).toBeNull();
    expect(await fq.unhold('o', { onlyIfDue: true })).toBe(true);
    expect((await fq.tenantStats('o')).held).toBe(false);
    await fq.hold('d', [], 0);
    expect(await fq.unhold('d', { onlyIfDue: true })).toBe(true);
    await fq.hold('u', [], 60_000);
    expect(await fq.unhold('u')).toBe(true);
    await fq.hold('u');
    expect(await waitOf('u')).toBeNull();
    await fq.hold('e', [], 4_000);
    expect(await fq.tenantRecords('e')).toBe(2);
    expect(await fq.forgetTenant('e')).toBe(2);
    expect(await fq.tenantRecords('e')).toBe(0);
    expect((await fq.heldTenants()).map((held) => held.tenant).sort()).toEqual(['s', 'u']);
  });

  it('counts the jobs a hold gave back against the tenant\'s cap until they finish: a hold lifted while its cause lasts admits no more than the cap', async () => {
    dispatcher = new FairDispatcher(fq, { window: 100, batchSize: 10 });
    await fq.enqueueBulk(Array.from({ length: 10 }, (_, i) => ({ tenant: 'c', name: 'n', data: i })));
    const first = (await dispatcher.dispatchBatch()).admitted;
    expect(first).toHaveLength(4);
    // Each parked by an outage: the slots go back to the window, the jobs stay the tenant's.
    await fq.hold('c', first.map((job) => ({ tenant: 'c', id: job.id as string })), 0);
    expect((await fq.stats()).inFlight).toBe(0);
    expect(await fq.unhold('c', { onlyIfDue: true })).toBe(true);
    expect((await dispatcher.dispatchBatch()).admitted).toEqual([]);
    // One of them finishes: one more may go.
    await fq.release({ tenant: 'c', id: first[0].id as string });
    expect((await dispatcher.dispatchBatch()).admitted).toHaveLength(1);
  });

  it("the reconciler still forgets a job a hold gave back once BullMQ has finished it, if its release was lost", async () => {
    dispatcher = new FairDispatcher(fq, { window: 4, batchSize: 4 });
    await fq.enqueue('s', { name: 'n', data: 0, jobId: 'once' });
    expect((await dispatcher.dispatchBatch()).admitted).toHaveLength(1);
    let held = false;
    let ran = false;
    // No release hook: what a worker killed between BullMQ's completion and its release leaves.
    const bare = new Worker(
      fq.keys.queueName,
      async (job, token) => {
        if (held) {
          ran = true;
          return;
        }
        held = true;
        await fq.hold('s', [{ tenant: 's', id: job.id as string }]);
        await job.moveToDelayed(Date.now() + 50, token);
        throw new DelayedError();
      },
      { connection: redis, prefix: fq.keys.bullPrefix },
    );
    workers.push(bare);
    // Completed jobs are removed from BullMQ (removeOnComplete).
    await waitFor(async () => ran && (await redis.exists(`${fq.keys.bullJobPrefix}s.once`)) === 0);
    expect(await fq.enqueue('s', { name: 'n', data: 1, jobId: 'once' })).toMatchObject({ status: 'duplicate' });

    await dispatcher.reconcile();
    expect(await redis.sismember(fq.keys.dedupe('s'), 's.once')).toBe(0);
    expect(await redis.exists(fq.keys.heldJobs('s'))).toBe(0);
    expect(await redis.smembers(fq.keys.heldJobsTenants)).toEqual([]);
    expect((await fq.stats()).inFlight).toBe(0);
    // A duplicate only while buffered or in flight, as for any finished job.
    expect((await fq.enqueue('s', { name: 'n', data: 2, jobId: 'once' })).status).toBe('added');
  });

  it('forgets a tenant in one step: its records everywhere, and its in-flight slots given back to the window', async () => {
    dispatcher = new FairDispatcher(fq, { window: 6, batchSize: 6, refillThreshold: 1 });
    await fq.setPolicy('gone', { maxConcurrency: 3, rateLimit: { max: 100, durationMs: 1000 } });
    await fq.setPolicy('stays', { maxConcurrency: 10 });
    await fq.enqueueBulk(Array.from({ length: 5 }, (_, i) => ({ tenant: 'gone', name: 'n', data: i, jobId: `g${i}` })));
    await fq.enqueueBulk(Array.from({ length: 5 }, (_, i) => ({ tenant: 'stays', name: 'n', data: i, jobId: `s${i}` })));
    expect((await dispatcher.dispatchBatch()).admitted).toHaveLength(6);
    await fq.pause('gone');
    expect((await fq.tenantStats('gone')).inFlight).toBe(3);
    expect(await fq.tenantRecords('gone')).toBeGreaterThan(0);

    expect(await fq.forgetTenant('gone')).toBeGreaterThan(0);
    expect(await fq.tenantRecords('gone')).toBe(0);
    expect(await fq.forgetTenant('gone')).toBe(0);
    const k = fq.keys;
    expect(await redis.exists(k.dedupe('gone'))).toBe(0);
    expect(await redis.smembers(k.busy)).toEqual(['stays']);
    expect(await redis.smembers(k.paused)).toEqual([]);
    expect(Number(await redis.get(k.inflightTotal))).toBe(3);
    // The freed slots admit the other tenant's rest at once.
    expect((await dispatcher.dispatchBatch()).admitted.map((job) => job.data.tenant)).toEqual(['stays', 'stays']);
    expect((await fq.tenantStats('stays')).inFlight).toBe(5);
  });

  it('the reconciler recomputes the total from the in-flight sets, so a set deleted by name cannot shrink the window for good', async () => {
    dispatcher = new FairDispatcher(fq, { window: 4, batchSize: 4, refillThreshold: 1 });
    await fq.enqueueBulk(Array.from({ length: 3 }, (_, i) => ({ tenant: 'erased', name: 'n', data: i })));
    await fq.enqueueBulk(Array.from({ length: 3 }, (_, i) => ({ tenant: 'other', name: 'n', data: i })));
    expect((await dispatcher.dispatchBatch()).admitted).toHaveLength(4);
    // What a key-by-name erasure does: the set goes, the total does not notice.
    await redis.del(fq.keys.inflight('erased'));
    expect(Number(await redis.get(fq.keys.inflightTotal))).toBe(4);
    expect((await dispatcher.dispatchBatch()).admitted).toEqual([]);

    await dispatcher.reconcile();
    expect(Number(await redis.get(fq.keys.inflightTotal))).toBe(2);
    expect(await redis.smembers(fq.keys.busy)).toEqual(['other']);
    expect((await dispatcher.dispatchBatch()).admitted.map((job) => job.data.tenant).sort()).toEqual(['erased', 'other']);
  });
});

import type { RedisClient as Redis } from '@bulkhead/redis';
import { BacklogFullError, FairDispatcher, FairQueue, InvalidKeyError } from '../src';
import { strideOrder } from './stride-model';
import { keysMatching, testRedis, uniqueName } from './redis-test-utils';

describe('FairQueue admission order (stride scheduling)', () => {
  let redis: Redis;
  let fq: FairQueue;
  let dispatcher: FairDispatcher;

  beforeAll(() => {
    redis = testRedis();
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    fq = new FairQueue({ name: uniqueName('order'), connection: redis });
    dispatcher = new FairDispatcher(fq, { window: 100_000, batchSize: 7 });
  });
  afterEach(async () => {
    await fq.close();
    await fq.obliterate();
  });

  async function fill(tenant: string, count: number): Promise<void> {
    await fq.enqueueBulk(Array.from({ length: count }, (_, seq) => ({ tenant, name: 'job', data: { seq } })));
  }

  /** Admits exactly `count` jobs (fewer if none are left), in batches of up to 7. */
  async function admit(count: number): Promise<Array<{ tenant: string; seq: number }>> {
    const out: Array<{ tenant: string; seq: number }> = [];
    while (out.length < count) {
      const batch = new FairDispatcher(fq, { window: 100_000, batchSize: Math.min(7, count - out.length) });
      const { admitted } = await batch.dispatchBatch();
      await batch.confirm();
      if (admitted.length === 0) break;
      for (const job of admitted) {
        out.push({ tenant: job.data.tenant, seq: (job.data.payload as { seq: number } | null)?.seq ?? -1 });
      }
    }
    return out;
  }

  it('admits backlogged tenants in weighted fair order, FIFO within each tenant', async () => {
    const weights = { ta: 4, tb: 2, tc: 1 };
    for (const [tenant, weight] of Object.entries(weights)) await fq.setPolicy(tenant, { weight });
    for (const tenant of Object.keys(weights)) await fill(tenant, 60);

    const admitted = await admit(70);

    expect(admitted.map((a) => a.tenant)).toEqual(strideOrder({ ta: 60, tb: 60, tc: 60 }, weights, 70));
    const counts = { ta: 0, tb: 0, tc: 0 } as Record<string, number>;
    for (const { tenant } of admitted) counts[tenant]++;
    expect(counts).toEqual({ ta: 40, tb: 20, tc: 10 });
    for (const tenant of Object.keys(weights)) {
      const seqs = admitted.filter((a) => a.tenant === tenant).map((a) => a.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i));
    }
  });

  it('serves a newly active tenant before a busy tenant gets its next turn', async () => {
    await fq.setPolicy('busy', { weight: 4 });
    await fill('busy', 1000);
    expect((await admit(5)).map((a) => a.tenant)).toEqual(Array(5).fill('busy'));

    await fill('newcomer', 3);
    // weight 1 vs 4: the newcomer's first job goes now, then it gets its 1-in-5 share.
    expect((await admit(6)).map((a) => a.tenant)).toEqual(['newcomer', 'busy', 'busy', 'busy', 'busy', 'newcomer']);
  });

  it('does not let a tenant bank credit by going idle', async () => {
    await fill('steady', 100);
    await fill('bursty', 1);
    expect((await admit(2)).map((a) => a.tenant).sort()).toEqual(['bursty', 'steady']);
    await admit(20);
    await fill('bursty', 10);
    const next = (await admit(10)).map((a) => a.tenant);
    // Equal weights: after rejoining at the virtual time, bursty gets one extra turn at most
    // (the rejoin turn) instead of catching up on the ~20 turns it sat out.
    expect(next[0]).toBe('bursty');
    expect(next.filter((t) => t === 'bursty').length).toBeLessThanOrEqual(6);
    expect(next.filter((t) => t === 'bursty').length).toBeGreaterThanOrEqual(5);
  });

  it('rejects with BacklogFullError at the tenant max, and per-tenant overrides win', async () => {
    const capped = new FairQueue({ name: fq.name, connection: redis, defaultPolicy: { maxBacklog: 3 } });
    for (let i = 0; i < 3; i++) await capped.enqueue('small', { name: 'j', data: i });
    const error = await capped.enqueue('small', { name: 'j', data: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BacklogFullError);
    expect((error as BacklogFullError).code).toBe('tenant_backlog_full');
    expect((error as BacklogFullError).maxBacklog).toBe(3);

    await capped.setPolicy('big', { maxBacklog: 5 });
    const results = await capped.enqueueBulk(Array.from({ length: 6 }, (_, i) => ({ tenant: 'big', name: 'j', data: i })));
    expect(results.map((r) => r.status)).toEqual(['added', 'added', 'added', 'added', 'added', 'backlog_full']);
    expect((await capped.tenantStats('big')).backlog).toBe(5);
  });

  it('applies policy defaults only where the tenant has no override', async () => {
    await fq.setPolicyDefaults('t1', { weight: 2 });
    expect((await fq.getPolicy('t1')).weight).toBe(2);
    await fq.setPolicy('t1', { weight: 7 });
    await fq.setPolicyDefaults('t1', { weight: 2, maxBacklog: 5 });
    expect(await fq.getPolicy('t1')).toMatchObject({ weight: 7, maxBacklog: 5 });
    await fq.clearPolicy('t1');
  });

  it('makes enqueue idempotent per tenant with a caller jobId, while buffered and in flight', async () => {
    expect((await fq.enqueue('t1', { name: 'j', data: 1, jobId: 'order-1' })).status).toBe('added');
    expect((await fq.enqueue('t1', { name: 'j', data: 2, jobId: 'order-1' })).status).toBe('duplicate');
    expect((await fq.enqueue('t2', { name: 'j', data: 3, jobId: 'order-1' })).status).toBe('added');
    expect((await fq.tenantStats('t1')).backlog).toBe(1);

    const [job] = await admit(1);
    expect(job.tenant).toBe('t1');
    const { jobId, status } = await fq.enqueue('t1', { name: 'j', data: 4, jobId: 'order-1' });
    expect(status).toBe('duplicate');
    expect(await fq.queue.getJob(jobId)).toBeDefined();
    expect((await fq.queue.getJob(jobId))!.data.payload).toBe(1);
  });

  it('validates tenant keys and job ids', async () => {
    for (const bad of ['a:b', '{x}', '', 'x'.repeat(65), 'a b']) {
      await expect(fq.enqueue(bad, { name: 'j', data: null })).rejects.toBeInstanceOf(InvalidKeyError);
    }
    await expect(fq.enqueue('ok', { name: 'j', data: null, jobId: 'a:b' })).rejects.toBeInstanceOf(InvalidKeyError);
    expect(() => new FairQueue({ name: 'a:b', connection: redis })).toThrow(InvalidKeyError);
  });

  it('pauses and resumes a tenant; a resumed tenant goes ahead of the busy one', async () => {
    await fill('resumed', 10);
    await fill('busy1', 10);
    await fq.pause('resumed');
    expect((await admit(4)).map((a) => a.tenant)).toEqual(['busy1', 'busy1', 'busy1', 'busy1']);
    const paused = await fq.tenantStats('resumed');
    expect(paused).toMatchObject({ paused: true, backlog: 10, inFlight: 0 });
    expect(paused.oldestWaitMs).toBeGreaterThanOrEqual(0);
    expect(await fq.backloggedTenants()).toEqual(['busy1', 'resumed']);

    await fq.resume('resumed');
    expect((await admit(6)).map((a) => a.tenant)).toEqual(['resumed', 'busy1', 'resumed', 'busy1', 'resumed', 'busy1']);
    expect(await fq.tenantStats('resumed')).toMatchObject({ paused: false, backlog: 7, inFlight: 3 });
  });

  it('keeps the window: never more in flight than allowed, refilled as slots free', async () => {
    dispatcher = new FairDispatcher(fq, { window: 5, batchSize: 100 });
    await fill('w1', 20);
    expect((await dispatcher.dispatchBatch()).admitted).toHaveLength(5);
    expect((await dispatcher.dispatchBatch()).admitted).toHaveLength(0);
    expect((await fq.stats()).inFlight).toBe(5);
    const waiting = await fq.queue.getWaiting();
    expect(await fq.release(waiting.slice(0, 2))).toBe(2);
    expect(await fq.release(waiting.slice(0, 2))).toBe(0);
    expect((await dispatcher.dispatchBatch()).admitted).toHaveLength(2);
  });

  it('enforces the per-tenant cap at admission and unparks the tenant when a slot frees', async () => {
    await fq.setPolicy('capped', { maxConcurrency: 2 });
    await fill('capped', 10);
    await fill('free', 10);
    dispatcher = new FairDispatcher(fq, { window: 100_000, batchSize: 100 });
    const first = await admit(12);
    expect(first.filter((a) => a.tenant === 'capped')).toHaveLength(2);
    expect(await fq.tenantStats('capped')).toMatchObject({ parked: true, inFlight: 2, backlog: 8 });
    expect(await fq.backloggedTenants()).toEqual(['capped']);

    const [done] = await fq.queue.getJobs(['waiting'], 0, -1).then((jobs) => jobs.filter((j) => j.data.tenant === 'capped'));
    await fq.release(done);
    const next = await admit(10);
    expect(next.map((a) => a.tenant)).toEqual(['capped']);
  });

  it('enforces a rate limit with a token bucket', async () => {
    await fq.setPolicy('limited', { rateLimit: { max: 3, durationMs: 300 } });
    await fill('limited', 10);
    dispatcher = new FairDispatcher(fq, { window: 100_000, batchSize: 100 });
    const { admitted, nextDueMs } = await dispatcher.dispatchBatch();
    expect(admitted).toHaveLength(3);
    expect(nextDueMs).toBeGreaterThan(0);
    expect(nextDueMs).toBeLessThanOrEqual(100);
    await new Promise((resolve) => setTimeout(resolve, nextDueMs + 5));
    expect((await dispatcher.dispatchBatch()).admitted).toHaveLength(1);
  });

  it('re-adds jobs staged by a dispatcher that died before adding them, without duplicates', async () => {
    await fill('crash', 5);
    // What a dispatcher does before it dies: the admission script alone, no addBulk.
    const [, , ...staged] = await fq.scripts.admit([100, 1000, '1', '0', '0', '0', 1000, 1, 0]);
    expect(staged).toHaveLength(5);
    expect(await fq.queue.count()).toBe(0);
    expect((await fq.stats()).staged).toBe(5);

    const restarted = new FairDispatcher(fq);
    expect(await restarted.recoverStaged(60_000)).toBe(0);
    expect(await restarted.recoverStaged(0)).toBe(5);
    expect(await fq.queue.count()).toBe(5);
    expect((await fq.stats()).staged).toBe(0);
    const seqs = (await fq.queue.getWaiting()).map((j) => (j.data.payload as { seq: number }).seq).sort();
    expect(seqs).toEqual([0, 1, 2, 3, 4]);

    // Added but never confirmed: recovery only confirms, BullMQ keeps one copy.
    await fill('crash', 2);
    const dying = new FairDispatcher(fq);
    expect((await dying.dispatchBatch()).admitted).toHaveLength(2);
    expect((await fq.stats()).staged).toBe(2);
    expect(await restarted.recoverStaged(0)).toBe(0);
    expect((await fq.stats()).staged).toBe(0);
    expect(await fq.queue.count()).toBe(7);
    expect((await fq.stats()).inFlight).toBe(7);
  });

  it('reconciles: releases jobs BullMQ finished or lost, keeps waiting and staged ones', async () => {
    await fill('rec', 4);
    await dispatcher.dispatchBatch();
    await dispatcher.confirm();
    const jobs = await fq.queue.getWaiting();
    await jobs[0].remove();
    await fq.scripts.admit([0, 0, '1', '0', '0', '0', 1000, 1, 0]);
    await fill('rec', 1);
    await fq.scripts.admit([100, 1000, '1', '0', '0', '0', 1000, 1, 0]);

    expect(await dispatcher.reconcile()).toBe(1);
    expect(await fq.tenantStats('rec')).toMatchObject({ inFlight: 4 });
    expect(await dispatcher.reconcile()).toBe(0);
  });

  it('leaves no scheduler key behind once everything is released', async () => {
    await fq.setPolicy('keep', { weight: 2 });
    await fill('keep', 30);
    await fill('other', 30);
    await fq.enqueue('other', { name: 'j', data: null, jobId: 'x1' });
    await fq.setPolicy('other', { rateLimit: { max: 1000, durationMs: 10 } });
    await admit(1000);
    await dispatcher.confirm();
    const during = await keysMatching(redis, fq.keys.pattern());
    expect(during).toEqual(expect.arrayContaining([fq.keys.inflight('keep'), fq.keys.inflight('other'), fq.keys.dedupe('other')]));
    await fq.release(await fq.queue.getWaiting());
    // Only configuration remains: the rate bucket expires within its refill time (~10 ms), the
    // wake token (unread: no dispatcher loop runs) within a second, and the dispatchers'
    // refill level a minute after the last dispatcher stops.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const remaining = (await keysMatching(redis, fq.keys.pattern())).filter((k) => !k.startsWith(fq.keys.bullPrefix));
    expect(remaining.filter((k) => k !== fq.keys.wake && k !== fq.keys.refill).sort()).toEqual([fq.keys.policy('keep'), fq.keys.policy('other')].sort());
    if (remaining.includes(fq.keys.wake)) expect(await redis.pttl(fq.keys.wake)).toBeLessThanOrEqual(1000);
  });
});

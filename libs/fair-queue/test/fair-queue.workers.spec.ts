import type { ChildProcess } from 'node:child_process';
import type { RedisClient as Redis } from '@bulkhead/redis';
import { FairDispatcher, FairQueue } from '../src';
import { deleteMatching, keysMatching, testRedis, uniqueName, waitFor } from './redis-test-utils';
import { startWorkerProcess, stopWorkerProcess } from './worker-process';

/** Two worker processes, two dispatchers, one Redis: the limits must hold across all of them. */
describe('FairQueue with real BullMQ workers in two processes', () => {
  let redis: Redis;
  let dispatcherRedis: Redis;
  let fq: FairQueue;
  let stats: string;
  let children: ChildProcess[];
  let dispatchers: FairDispatcher[];

  beforeAll(() => {
    redis = testRedis();
    dispatcherRedis = testRedis();
  });
  afterAll(async () => {
    await Promise.all([redis.quit(), dispatcherRedis.quit()]);
  });
  beforeEach(() => {
    fq = new FairQueue({ name: uniqueName('workers'), connection: redis });
    // Hash-tagged: the fixture's script touches several stats keys at once, which a cluster allows within one slot only.
    stats = `{fqtest:${fq.name}}`;
    children = [];
    dispatchers = [];
  });
  afterEach(async () => {
    await Promise.all(dispatchers.map((d) => d.stop()));
    await Promise.all(children.map((child) => stopWorkerProcess(child)));
    await fq.close();
    await fq.obliterate();
    await deleteMatching(redis, `${stats}:*`);
  });

  function startDispatchers(count: number, window: number): void {
    for (let i = 0; i < count; i++) {
      // Each dispatcher gets its own FairQueue handle, as it would in its own process.
      const own = new FairQueue({ name: fq.name, connection: i === 0 ? redis : dispatcherRedis });
      const dispatcher = new FairDispatcher(own, { window, batchSize: 4, reconcileIntervalMs: 300, pollMs: 100 });
      dispatcher.start();
      dispatchers.push(dispatcher);
    }
  }

  async function doneCounts(): Promise<Record<string, number>> {
    const raw = await redis.hgetall(`${stats}:done`);
    return Object.fromEntries(Object.entries(raw).map(([id, n]) => [id, Number(n)]));
  }

  async function schedulerKeys(): Promise<string[]> {
    return (await keysMatching(redis, fq.keys.pattern())).filter(
      (key) => !key.startsWith(fq.keys.bullPrefix) && key !== fq.keys.wake && key !== fq.keys.refill && !key.startsWith(fq.keys.tokens('')),
    );
  }

  it('holds per-tenant caps and rate limits across processes and dispatchers, then returns to baseline', async () => {
    await fq.setPolicy('capA', { maxConcurrency: 2 });
    await fq.setPolicy('capB', { maxConcurrency: 3, weight: 2 });
    await fq.setPolicy('rated', { rateLimit: { max: 5, durationMs: 500 } });
    const [w1, w2] = await Promise.all([
      startWorkerProcess({ name: fq.name, stats, concurrency: 8, jobMs: 40 }),
      startWorkerProcess({ name: fq.name, stats, concurrency: 8, jobMs: 40 }),
    ]);
    children.push(w1, w2);

    const jobs = [
      ...Array.from({ length: 30 }, (_, i) => ({ tenant: 'capA', name: 'work', data: i })),
      ...Array.from({ length: 30 }, (_, i) => ({ tenant: 'capB', name: 'work', data: i })),
      ...Array.from({ length: 15 }, (_, i) => ({ tenant: 'rated', name: 'work', data: i })),
      ...Array.from({ length: 30 }, (_, i) => ({ tenant: 'free', name: 'work', data: i })),
    ];
    const ids = (await fq.enqueueBulk(jobs)).map((r) => r.jobId);
    startDispatchers(2, 16);

    await waitFor(async () => Object.keys(await doneCounts()).length === ids.length, 30_000, 50);

    const done = await doneCounts();
    expect(Object.keys(done).sort()).toEqual([...ids].sort());
    expect(Object.values(done).every((n) => n === 1)).toBe(true);
    const max = await redis.hgetall(`${stats}:max`);
    expect(Number(max.capA)).toBeLessThanOrEqual(2);
    expect(Number(max.capB)).toBeLessThanOrEqual(3);
    // Both processes took jobs.
    expect(Number(await redis.get(`${stats}:started-by:${w1.pid}`))).toBeGreaterThan(0);
    expect(Number(await redis.get(`${stats}:started-by:${w2.pid}`))).toBeGreaterThan(0);

    // Token bucket of 5 per 500 ms: at most 2 x 5 admissions in any 500 ms (a full bucket plus a
    // bucket's worth of refill), and the 10 after the first burst need ~1 s of refill. Admission
    // times, not start times: a loaded machine may start admitted jobs late and bunched.
    const starts = (await redis.lrange(`${stats}:starts:rated`, 0, -1)).map(Number).sort((a, b) => a - b);
    expect(starts).toHaveLength(15);
    for (let i = 0; i < starts.length; i++) {
      expect(starts.filter((t) => t >= starts[i] && t < starts[i] + 500).length).toBeLessThanOrEqual(10);
    }
    expect(starts[14] - starts[0]).toBeGreaterThanOrEqual(800);

    await waitFor(async () => (await fq.stats()).inFlight === 0, 10_000);
    await waitFor(async () => (await schedulerKeys()).length === 3, 5_000);
    expect((await schedulerKeys()).sort()).toEqual(['capA', 'capB', 'rated'].map((t) => fq.keys.policy(t)).sort());
  });

  it('loses no job when a worker process is SIGKILLed mid-job, and the cap still holds', async () => {
    await fq.setPolicy('crash', { maxConcurrency: 3 });
    const fast = { lockMs: 1000, stalledMs: 500 };
    const [victim, survivor] = await Promise.all([
      startWorkerProcess({ name: fq.name, stats, concurrency: 5, jobMs: 300, ...fast }),
      startWorkerProcess({ name: fq.name, stats, concurrency: 5, jobMs: 300, ...fast }),
    ]);
    children.push(victim, survivor);
    const ids = (
      await fq.enqueueBulk([
        ...Array.from({ length: 12 }, (_, i) => ({ tenant: 'crash', name: 'slow', data: i })),
        ...Array.from({ length: 6 }, (_, i) => ({ tenant: 'bystander', name: 'slow', data: i })),
      ])
    ).map((r) => r.jobId);
    startDispatchers(1, 8);

    await waitFor(async () => Number(await redis.get(`${stats}:started-by:${victim.pid}`)) > 0, 10_000, 10);
    const killed = new Promise((resolve) => victim.once('exit', resolve));
    victim.kill('SIGKILL');
    await killed;
    const runningAtKill = [
      ...(await redis.smembers(`${stats}:running:crash`)),
      ...(await redis.smembers(`${stats}:running:bystander`)),
    ];
    expect(runningAtKill.length).toBeGreaterThan(0);

    await waitFor(async () => Object.keys(await doneCounts()).length === ids.length, 30_000, 50);

    const done = await doneCounts();
    expect(Object.keys(done).sort()).toEqual([...ids].sort());
    expect(Number((await redis.hgetall(`${stats}:max`)).crash)).toBeLessThanOrEqual(3);
    // At-least-once: a job cut off mid-run ran again to completion, none ran more than twice.
    expect(Object.values(done).every((n) => n >= 1 && n <= 2)).toBe(true);
    for (const id of runningAtKill) expect(done[id]).toBeGreaterThanOrEqual(1);
    await waitFor(async () => (await fq.stats()).inFlight === 0, 10_000);
    expect(await fq.tenantStats('crash')).toMatchObject({ inFlight: 0, backlog: 0 });
  });
});

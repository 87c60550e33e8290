import { randomBytes } from 'node:crypto';
import { keyspaceNodes, type RedisClient as Redis } from '@bulkhead/redis';
import { FairDispatcher, FairQueue } from '../src';
import { testRedis, uniqueName, waitFor } from './redis-test-utils';

/** Commands that walk a key's entries: on a key shared by every tenant, work proportional to the others' data. */
const WALKS = new Set(['hscan', 'hgetall', 'hkeys', 'hvals', 'sscan', 'smembers', 'sinter', 'sunion', 'sdiff', 'zscan', 'zrange', 'zrangebyscore', 'zrevrange', 'lrange', 'scan', 'keys', 'sort']);

/**
 * The commands Lua scripts ran on the queue's keys while `action` ran, as MONITOR reports them
 * (source `lua`), on every node: what a script call did, counted rather than timed.
 */
async function scriptCommandsDuring(redis: Redis, tag: string, action: () => Promise<unknown>): Promise<string[][]> {
  const seen: string[][] = [];
  const marker = `${tag}monitor-end-${randomBytes(4).toString('hex')}`;
  let ended = false;
  const monitors = await Promise.all(
    (await keyspaceNodes(redis)).map(async (node) => {
      const monitor = await node.monitor();
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (args[1] === marker) ended = true;
        else if (source === 'lua' && typeof args[1] === 'string' && args[1].startsWith(tag)) seen.push(args);
      });
      return monitor;
    }),
  );
  try {
    await action();
    // MONITOR streams in execution order: once the marker is seen, every command before it is too.
    await redis.exists(marker);
    await waitFor(async () => ended);
  } finally {
    for (const monitor of monitors) {
      // Lines still buffered when the connection leaves monitoring mode reach ioredis as replies to
      // no command, which it emits as an error: what is streamed after the marker is not needed.
      monitor.on('error', () => undefined);
      monitor.disconnect();
    }
  }
  return seen;
}

describe("FairQueue.forgetTenant: one tenant's records, without walking the others'", () => {
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
    fq = new FairQueue({ name: uniqueName('forget'), connection: redis });
  });
  afterEach(async () => {
    await dispatcher?.stop();
    await fq.close();
    await fq.obliterate();
  });

  const others = Array.from({ length: 200 }, (_, t) => `other-${t}`);
  const otherJobs = others.flatMap((tenant) => Array.from({ length: 100 }, (_, i) => ({ tenant, name: 'n', data: i, jobId: `o${i}` })));

  it("removes every dedupe entry of the tenant and none of 20,000 others', and no script call walks the others' entries", async () => {
    dispatcher = new FairDispatcher(fq, { window: 8, batchSize: 8, refillThreshold: 1 });
    // Some of the tenant's jobs in flight and staged (admitted, not yet confirmed), one given back, the rest buffered.
    await fq.enqueueBulk(Array.from({ length: 20 }, (_, i) => ({ tenant: 'gone', name: 'n', data: i, jobId: `g${i}` })));
    expect((await dispatcher.dispatchBatch()).admitted).toHaveLength(8);
    expect((await redis.hkeys(fq.keys.staged)).filter((id) => id.startsWith('gone.')).length).toBeGreaterThan(0);
    expect(await fq.giveBack('gone', [{ tenant: 'gone', id: 'gone.g0' }])).toBe(1);
    expect((await fq.enqueueBulk(otherJobs)).every((r) => r.status === 'added')).toBe(true);
    expect(await fq.tenantRecords('gone')).toBeGreaterThan(0);

    const commands = await scriptCommandsDuring(redis, fq.keys.tag, () => fq.forgetTenant('gone'));
    const walks = commands.filter(([command, key]) => WALKS.has(command.toLowerCase()) && !key.endsWith(':gone'));
    expect(walks).toEqual([]);
    // A fixed handful per call plus the tenant's own entries: nothing that grows with the others'.
    expect(commands.length).toBeLessThan(100);

    expect(await fq.tenantRecords('gone')).toBe(0);
    // Its staged entries, found through its in-flight set, are gone from the shared hash too.
    expect((await redis.hkeys(fq.keys.staged)).filter((id) => id.startsWith('gone.'))).toEqual([]);
    expect(await fq.forgetTenant('gone')).toBe(0);
    // Its ids are no longer duplicates; every other tenant's still is.
    expect((await fq.enqueueBulk(Array.from({ length: 20 }, (_, i) => ({ tenant: 'gone', name: 'n', data: i, jobId: `g${i}` })))).every((r) => r.status === 'added')).toBe(true);
    expect((await fq.enqueueBulk(otherJobs)).every((r) => r.status === 'duplicate')).toBe(true);
  });

  it("keeps each tenant's dedupe entries under a key of its own, in the queue's hash slot, gone once its jobs are", async () => {
    dispatcher = new FairDispatcher(fq, { window: 8, batchSize: 8, refillThreshold: 1 });
    await fq.enqueue('a', { name: 'n', data: 0, jobId: 'x' });
    await fq.enqueue('b', { name: 'n', data: 0, jobId: 'x' });
    expect(fq.keys.dedupe('a').startsWith(fq.keys.tag)).toBe(true);
    expect(await redis.smembers(fq.keys.dedupe('a'))).toEqual(['a.x']);
    expect(await redis.smembers(fq.keys.dedupe('b'))).toEqual(['b.x']);
    expect(await redis.exists(fq.keys.legacyDedupe)).toBe(0);
    await dispatcher.dispatchBatch();
    await dispatcher.confirm();
    await fq.release(await fq.queue.getWaiting());
    expect(await redis.exists(fq.keys.dedupe('a'), fq.keys.dedupe('b'))).toBe(0);
  });

  it('still honours and drains the shared dedupe hash an earlier version wrote, in bounded steps', async () => {
    dispatcher = new FairDispatcher(fq, { window: 8, batchSize: 8, refillThreshold: 1 });
    // What an earlier version left: ids in one shared hash (field id, value tenant).
    const legacy = Object.fromEntries([
      ...Array.from({ length: 3000 }, (_, i) => [`gone.l${i}`, 'gone']),
      ...Array.from({ length: 3000 }, (_, i) => [`stays.l${i}`, 'stays']),
    ]);
    await redis.hset(fq.keys.legacyDedupe, legacy);
    expect((await fq.enqueue('stays', { name: 'n', data: 0, jobId: 'l1' })).status).toBe('duplicate');
    expect(await fq.tenantRecords('gone')).toBe(3000);

    expect(await fq.forgetTenant('gone')).toBe(3000);
    expect(await fq.tenantRecords('gone')).toBe(0);
    expect(await redis.hlen(fq.keys.legacyDedupe)).toBe(3000);
    expect((await fq.enqueue('gone', { name: 'n', data: 0, jobId: 'l1' })).status).toBe('added');

    // A finished job's legacy entry goes with it, as it did before.
    await redis.hset(fq.keys.legacyDedupe, 'gone.l1', 'gone');
    await dispatcher.dispatchBatch();
    await dispatcher.confirm();
    await fq.release(await fq.queue.getWaiting());
    expect(await redis.hexists(fq.keys.legacyDedupe, 'gone.l1')).toBe(0);
  });

  it("finds the event-stream entries about the tenant's jobs, and only by its own job ids when its key is too short to look for in free text", async () => {
    const events = fq.keys.bullEvents;
    const short = await redis.xadd(events, '*', 'event', 'completed', 'jobId', '1.a', 'returnvalue', 'null');
    // Another tenant's events carry the short key's characters as counters and values.
    await redis.xadd(events, '*', 'event', 'retries-exhausted', 'jobId', 'other.b', 'attemptsMade', '1');
    await redis.xadd(events, '*', 'event', 'completed', 'jobId', 'other.c', 'returnvalue', '1');
    const uuid = '0b9e5c2a-6f1d-4c1e-9a7b-2d4f8e6a1c3b';
    const ownJob = await redis.xadd(events, '*', 'event', 'failed', 'jobId', `${uuid}.d`, 'failedReason', 'boom');
    const named = await redis.xadd(events, '*', 'event', 'failed', 'jobId', 'platform.e', 'failedReason', `tenant ${uuid} is gone`);
    expect(await fq.bullEventIds('1')).toEqual([short]);
    expect(await fq.bullEventIds(uuid)).toEqual([ownJob, named]);
    expect(await fq.removeBullEvents('1')).toBe(1);
    expect(await redis.xlen(events)).toBe(4);
  });
});

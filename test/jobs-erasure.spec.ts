import { randomBytes } from 'node:crypto';
import { loadConfig } from '@bulkhead/config';
import { createFairWorker, FairDispatcher, FairQueue } from '@bulkhead/fair-queue';
import { TenantJobRecords } from '@bulkhead/jobs';
import { createRedis, type RedisClient } from '@bulkhead/redis';

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/**
 * What offboarding's erasure counts and removes of a tenant's jobs (`TenantJobRecords`, the
 * certificate's `redis:fair-queue`), beyond the scheduler: BullMQ's event stream, and a job's
 * hash that no BullMQ list names. Real Redis and BullMQ, on a queue of this spec's own.
 */
describe("erasing a tenant's jobs: BullMQ's event stream and orphaned job hashes", () => {
  let redis: RedisClient;
  let fq: FairQueue;
  let records: TenantJobRecords;
  let dispatcher: FairDispatcher;
  let closeWorker: (() => Promise<void>) | undefined;
  // Tenant ids as the platform has them; `stays` shares no token with `gone`.
  const gone = `10000000-0000-4000-8000-${randomBytes(6).toString('hex')}`;
  const stays = `20000000-0000-4000-8000-${randomBytes(6).toString('hex')}`;

  beforeAll(() => {
    redis = createRedis(loadConfig(), { maxRetriesPerRequest: null, connectionName: 'jobs-erasure-test' });
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    fq = new FairQueue({ name: `jobs-erasure-${randomBytes(4).toString('hex')}`, connection: redis });
    records = new TenantJobRecords(fq);
    dispatcher = new FairDispatcher(fq, { window: 16, batchSize: 16, refillThreshold: 1 });
  });
  afterEach(async () => {
    await closeWorker?.();
    closeWorker = undefined;
    await dispatcher.stop();
    await fq.close();
    await fq.obliterate();
  });

  /** Every entry of the stream, with its fields, read in pages. */
  const events = async (): Promise<Array<[string, string[]]>> => {
    const out: Array<[string, string[]]> = [];
    let start = '-';
    for (;;) {
      // BullMQ's own layout: `<prefix>:<queue>:events`.
      const page = await redis.xrange(`${fq.keys.bullJobPrefix}events`, start, '+', 'COUNT', 200);
      out.push(...page);
      if (page.length < 200) return out;
      start = `(${page[page.length - 1][0]}`;
    }
  };
  const naming = (entries: Array<[string, string[]]>, tenant: string) => entries.filter(([, fields]) => fields.some((value) => value.includes(tenant)));

  it("leaves no entry of BullMQ's event stream naming the tenant's jobs, and every other tenant's entry stays", async () => {
    const worker = createFairWorker<string>(fq, async (job) => {
      if (job.data.payload === 'fail') throw new Error(`refused for ${job.data.tenant}`);
    }, { concurrency: 4 });
    closeWorker = worker.close;
    for (const tenant of [gone, stays]) {
      await fq.enqueueBulk(['a', 'b', 'fail'].map((data, i) => ({ tenant, name: 'n', data, jobId: `j${i}` })));
    }
    dispatcher.start();
    // Completed jobs are removed (removeOnComplete), failed ones kept: each named in the stream.
    await until(async () => (await fq.queue.getFailedCount()) === 2 && (await fq.stats()).inFlight === 0, 'the jobs to finish');
    const othersBefore = naming(await events(), stays);
    expect(naming(await events(), gone).length).toBeGreaterThan(0);
    expect(await records.count(gone)).toBeGreaterThan(0);

    await records.erase(gone);

    expect(naming(await events(), gone)).toEqual([]);
    expect(naming(await events(), stays)).toEqual(othersBefore);
    expect(await records.count(gone)).toBe(0);
    expect(await records.count(stays)).toBeGreaterThan(0);
  });

  it("counts and erases a job hash of the tenant that no BullMQ list names", async () => {
    // What a crash between BullMQ's list and hash updates, or a hash written back by a late worker, leaves.
    const orphan = `${fq.keys.bullJobPrefix}${gone}.orphan`;
    await redis.hset(orphan, 'name', 'n', 'data', JSON.stringify({ tenant: gone }), 'timestamp', Date.now());
    expect(await records.count(gone)).toBe(1);

    expect(await records.erase(gone)).toBeGreaterThanOrEqual(1);
    expect(await redis.exists(orphan)).toBe(0);
    expect(await records.count(gone)).toBe(0);
    expect(naming(await events(), gone)).toEqual([]);
  });
});

/**
 * Fair scheduler vs a plain BullMQ queue, side by side in one process against one Redis:
 * head-of-line blocking under a flood, weighted shares, throughput, and the cost of 10,000
 * backlogged tenants. Sizes scale with BENCH_SCALE (e.g. 0.1 for a smoke run).
 * Standalone: npx ts-node -r tsconfig-paths/register --transpile-only bench/scenarios/fair-queue.ts
 */
import { randomBytes } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { createFairWorker, FairDispatcher, FairQueue, type FairJobData, type FairWorker } from '@bulkhead/fair-queue';
import { BenchSection } from '../bench-section';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SCALE = Number(process.env.BENCH_SCALE ?? '1') > 0 ? Number(process.env.BENCH_SCALE ?? '1') : 1;
const scaled = (n: number, min = 1): number => Math.max(min, Math.round(n * SCALE));

const SIZES = {
  floodJobs: scaled(100_000, 1000),
  smallTenants: 100,
  smallJobsEach: 10,
  weightJobsEach: scaled(7_000, 700),
  weightSample: scaled(7_000, 700),
  noopJobs: scaled(50_000, 2000),
  slowJobs: scaled(10_000, 500),
  slowJobMs: 20,
  manyTenants: scaled(10_000, 100),
  manyJobsEach: 10,
};

const ROUNDS = 2;
const NOOP_CONCURRENCY = 100;
const SLOW_CONCURRENCY = 50;
/**
 * 10x worker concurrency: keeps BullMQ's wait list from running dry between refills (a short
 * list costs workers throughput) while bounding what a newcomer waits behind.
 */
const WINDOW_FACTOR = 10;
const windowFor = (concurrency: number): number => concurrency * WINDOW_FACTOR;
const BATCH = 250;
const CHUNK = 1000;

type PlainData = { tenant: string; enqueuedAt: number };

interface Side {
  name: string;
  /** Enqueues one no-op job per entry, for that entry's tenant. */
  enqueue(tenants: string[]): Promise<void>;
  close(): Promise<void>;
}

interface HandlerStats {
  started: number;
  /** Tenant of every started job, in start order. */
  order: string[];
  waits: Map<string, number[]>;
}

function newStats(): HandlerStats {
  return { started: 0, order: [], waits: new Map() };
}

function record(stats: HandlerStats, tenant: string, enqueuedAt: number, keepOrder: boolean): void {
  stats.started++;
  if (keepOrder) stats.order.push(tenant);
  const wait = Date.now() - enqueuedAt;
  const list = stats.waits.get(tenant);
  if (list) list.push(wait);
  else stats.waits.set(tenant, [wait]);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('fair-queue bench: timed out waiting for jobs');
    await sleep(5);
  }
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';

const suffix = (): string => randomBytes(4).toString('hex');

async function deletePattern(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

async function countPattern(redis: Redis, pattern: string, keep: (key: string) => boolean = () => true): Promise<number> {
  let cursor = '0';
  let count = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    count += keys.filter(keep).length;
  } while (cursor !== '0');
  return count;
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
}

type SlowlogEntry = [number, number, number, string[]];

async function lastSlowlogId(redis: Redis): Promise<number> {
  const entries = (await redis.call('SLOWLOG', 'GET', '1')) as SlowlogEntry[];
  return entries.length > 0 ? Number(entries[0][0]) : -1;
}

/**
 * SLOWLOG is capped (slowlog-max-len), so this counts what is still there after `sinceId`.
 * The scheduler's scripts all route on the `active` key; BullMQ's never do.
 */
async function slowlogSince(redis: Redis, sinceId: number, routingKey: string): Promise<{ all: number; ours: number }> {
  const entries = ((await redis.call('SLOWLOG', 'GET', '1000')) as SlowlogEntry[]).filter(([id]) => Number(id) > sinceId);
  return { all: entries.length, ours: entries.filter(([, , , args]) => args.some((arg) => String(arg) === routingKey)).length };
}

const mb = (bytes: number): string => fmt(bytes / 1024 / 1024, 1);

/** The fair scheduler: producer, one dispatcher and one worker in this process. */
class FairSide implements Side {
  readonly name = 'fair scheduler';
  readonly queue: FairQueue;
  readonly dispatcher: FairDispatcher;
  readonly worker: FairWorker<null, void>;

  constructor(
    redis: Redis,
    workerRedis: Redis,
    stats: HandlerStats,
    opts: { concurrency: number; jobMs: number; keepOrder: boolean; weights?: Record<string, number> },
  ) {
    this.queue = new FairQueue({ name: `bench-${suffix()}`, connection: redis, defaultPolicy: { maxBacklog: 1_000_000 } });
    this.dispatcher = new FairDispatcher(this.queue, { window: windowFor(opts.concurrency), batchSize: BATCH });
    this.worker = createFairWorker<null, void>(
      this.queue,
      async (job: Job<FairJobData<null>>) => {
        record(stats, job.data.tenant, job.data.enqueuedAt, opts.keepOrder);
        if (opts.jobMs > 0) await sleep(opts.jobMs);
      },
      { concurrency: opts.concurrency, connection: workerRedis, autorun: false },
    );
  }

  async start(weights: Record<string, number> = {}): Promise<void> {
    for (const [tenant, weight] of Object.entries(weights)) await this.queue.setPolicy(tenant, { weight });
    this.dispatcher.start();
    void this.worker.worker.run();
    await this.worker.worker.waitUntilReady();
  }

  async enqueue(tenants: string[]): Promise<void> {
    for (let i = 0; i < tenants.length; i += CHUNK) {
      await this.queue.enqueueBulk(tenants.slice(i, i + CHUNK).map((tenant) => ({ tenant, name: 'noop', data: null })));
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.stop();
    await this.worker.close();
    await this.queue.close();
    await this.queue.obliterate();
  }
}

/** The baseline: one ordinary BullMQ queue, same worker concurrency, jobs added with addBulk. */
class PlainSide implements Side {
  readonly name = 'plain BullMQ';
  readonly prefix = `{bench-plain-${suffix()}}`;
  readonly queue: Queue<PlainData>;
  readonly worker: Worker<PlainData>;

  constructor(
    private readonly redis: Redis,
    workerRedis: Redis,
    stats: HandlerStats,
    opts: { concurrency: number; jobMs: number; keepOrder: boolean },
  ) {
    this.queue = new Queue<PlainData>('plain', { connection: redis, prefix: this.prefix });
    this.worker = new Worker<PlainData>(
      'plain',
      async (job) => {
        record(stats, job.data.tenant, job.data.enqueuedAt, opts.keepOrder);
        if (opts.jobMs > 0) await sleep(opts.jobMs);
      },
      { connection: workerRedis, prefix: this.prefix, concurrency: opts.concurrency, autorun: false },
    );
  }

  async start(): Promise<void> {
    void this.worker.run();
    await this.worker.waitUntilReady();
  }

  async enqueue(tenants: string[]): Promise<void> {
    for (let i = 0; i < tenants.length; i += CHUNK) {
      const enqueuedAt = Date.now();
      await this.queue.addBulk(
        tenants.slice(i, i + CHUNK).map((tenant) => ({
          name: 'noop',
          data: { tenant, enqueuedAt },
          opts: { removeOnComplete: true, removeOnFail: 1000 },
        })),
      );
    }
  }

  async close(): Promise<void> {
    await this.worker.close();
    await this.queue.obliterate({ force: true });
    await this.queue.close();
    await deletePattern(this.redis, `${this.prefix.replace(/[{}]/g, (c) => `\\${c}`)}*`);
  }
}

interface Connections {
  redis: Redis;
  workerRedis: Redis;
}

async function withSide<T>(
  kind: 'fair' | 'plain',
  conns: Connections,
  stats: HandlerStats,
  opts: { concurrency: number; jobMs: number; keepOrder: boolean; weights?: Record<string, number> },
  body: (side: FairSide | PlainSide) => Promise<T>,
): Promise<T> {
  const side =
    kind === 'fair'
      ? new FairSide(conns.redis, conns.workerRedis, stats, opts)
      : new PlainSide(conns.redis, conns.workerRedis, stats, opts);
  try {
    if (side instanceof FairSide) await side.start(opts.weights);
    else await side.start();
    return await body(side);
  } finally {
    await side.close();
  }
}

interface FloodResult {
  p50: number;
  p99: number;
  max: number;
  floodDoneMs: number;
}

async function flood(kind: 'fair' | 'plain', conns: Connections): Promise<FloodResult> {
  const stats = newStats();
  const smallTenants = Array.from({ length: SIZES.smallTenants }, (_, i) => `small-${i}`);
  const total = SIZES.floodJobs + SIZES.smallTenants * SIZES.smallJobsEach;
  return withSide(kind, conns, stats, { concurrency: NOOP_CONCURRENCY, jobMs: 0, keepOrder: false }, async (side) => {
    const started = Date.now();
    await side.enqueue(Array<string>(SIZES.floodJobs).fill('flood'));
    const small: string[] = [];
    for (let j = 0; j < SIZES.smallJobsEach; j++) small.push(...smallTenants);
    await side.enqueue(small);
    await until(() => stats.started >= total);
    const waits = smallTenants.flatMap((t) => stats.waits.get(t) ?? []);
    return { p50: percentile(waits, 50), p99: percentile(waits, 99), max: Math.max(...waits), floodDoneMs: Date.now() - started };
  });
}

async function weightedShares(conns: Connections): Promise<Record<string, number>> {
  const stats = newStats();
  const weights = { 'w4-enterprise': 4, 'w2-pro': 2, 'w1-free': 1 };
  return withSide('fair', conns, stats, { concurrency: NOOP_CONCURRENCY, jobMs: 0, keepOrder: true, weights }, async (side) => {
    const fair = side as FairSide;
    // Fill every backlog before dispatch starts competing, as three long-running backlogs would.
    await fair.dispatcher.stop();
    const jobs: string[] = [];
    for (let i = 0; i < SIZES.weightJobsEach; i++) jobs.push(...Object.keys(weights));
    await fair.enqueue(jobs);
    fair.dispatcher.start();
    await until(() => stats.started >= SIZES.weightSample);
    const sample = stats.order.slice(0, SIZES.weightSample);
    const shares: Record<string, number> = {};
    for (const tenant of Object.keys(weights)) shares[tenant] = sample.filter((t) => t === tenant).length / sample.length;
    return shares;
  });
}

async function throughput(kind: 'fair' | 'plain', conns: Connections, jobs: number, concurrency: number, jobMs: number): Promise<number> {
  const stats = newStats();
  const tenants = Array.from({ length: 10 }, (_, i) => `tp-${i}`);
  return withSide(kind, conns, stats, { concurrency, jobMs, keepOrder: false }, async (side) => {
    const started = Date.now();
    await side.enqueue(Array.from({ length: jobs }, (_, i) => tenants[i % tenants.length]));
    await until(() => stats.started >= jobs);
    // Last handler start, plus the job itself, approximates the end of processing.
    return jobs / ((Date.now() - started) / 1000);
  });
}

interface ManyTenantsResult {
  tenants: number;
  jobs: number;
  enqueueMs: number;
  admitCalls: number;
  admitP50Ms: number;
  admitP99Ms: number;
  admitMaxMs: number;
  perJobUs: number;
  batchP50Ms: number;
  slowAll: number;
  slowOurs: number;
  memBefore: number;
  memPeak: number;
  memAfter: number;
  memCleaned: number;
  keysPeak: number;
  keysAfter: number;
  drainMs: number;
}

async function manyTenants(conns: Connections): Promise<ManyTenantsResult> {
  const { redis } = conns;
  const stats = newStats();
  const jobs = SIZES.manyTenants * SIZES.manyJobsEach;
  const memBefore = await usedMemory(redis);
  const slowlogBefore = await lastSlowlogId(redis);
  const result = await withSide('fair', conns, stats, { concurrency: NOOP_CONCURRENCY, jobMs: 0, keepOrder: false }, async (side) => {
    const fair = side as FairSide;
    await fair.dispatcher.stop();
    const tenants: string[] = [];
    for (let j = 0; j < SIZES.manyJobsEach; j++) for (let t = 0; t < SIZES.manyTenants; t++) tenants.push(`tenant-${t}`);
    const enqueueStarted = Date.now();
    await fair.enqueue(tenants);
    const enqueueMs = Date.now() - enqueueStarted;
    const memPeak = await usedMemory(redis);
    const keysPeak = await countPattern(redis, fair.queue.keys.pattern());

    // Time every admission script call the dispatcher makes while it drains 10k tenants.
    const scripts = fair.queue.scripts;
    const admit = scripts.admit.bind(scripts);
    const admitTimes: number[] = [];
    let admitted = 0;
    scripts.admit = async (args) => {
      const t0 = process.hrtime.bigint();
      const out = await admit(args);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (out.length > 1) {
        admitTimes.push(ms);
        admitted += out.length - 1;
      }
      return out;
    };
    const batchTimes: number[] = [];
    const dispatchBatch = fair.dispatcher.dispatchBatch.bind(fair.dispatcher);
    fair.dispatcher.dispatchBatch = async () => {
      const t0 = process.hrtime.bigint();
      const out = await dispatchBatch();
      if (out.admitted.length > 0) batchTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
      return out;
    };
    const drainStarted = Date.now();
    fair.dispatcher.start();
    await until(() => stats.started >= jobs);
    const drainMs = Date.now() - drainStarted;
    // Releases trail the last handler start by a tick or two.
    for (let i = 0; i < 200 && (await fair.queue.stats()).inFlight > 0; i++) await sleep(10);
    await fair.dispatcher.stop();
    await sleep(1100); // let the wake token expire
    const keysAfter = await countPattern(redis, fair.queue.keys.pattern(), (key) => !key.startsWith(fair.queue.keys.bullPrefix));
    const memAfter = await usedMemory(redis);
    const slow = await slowlogSince(redis, slowlogBefore, fair.queue.keys.active);
    const totalAdmitMs = admitTimes.reduce((a, b) => a + b, 0);
    return {
      tenants: SIZES.manyTenants,
      jobs,
      enqueueMs,
      admitCalls: admitTimes.length,
      admitP50Ms: percentile(admitTimes, 50),
      admitP99Ms: percentile(admitTimes, 99),
      admitMaxMs: Math.max(...admitTimes),
      perJobUs: (totalAdmitMs * 1000) / Math.max(1, admitted),
      batchP50Ms: percentile(batchTimes, 50),
      slowAll: slow.all,
      slowOurs: slow.ours,
      memBefore,
      memPeak,
      memAfter,
      memCleaned: NaN,
      keysPeak,
      keysAfter,
      drainMs,
    };
  });
  result.memCleaned = await usedMemory(redis);
  return result;
}

export async function fairQueueBench(): Promise<BenchSection> {
  const conns: Connections = {
    redis: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
    workerRedis: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
  };
  try {
    const floodPlain = await flood('plain', conns);
    const floodFair = await flood('fair', conns);
    const shares = await weightedShares(conns);
    // Alternate the two sides and keep each one's best of ROUNDS: the host is shared, and a
    // burst of outside load during one run would otherwise decide the ratio.
    const best = { noopPlain: 0, noopFair: 0, slowPlain: 0, slowFair: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      best.noopPlain = Math.max(best.noopPlain, await throughput('plain', conns, SIZES.noopJobs, NOOP_CONCURRENCY, 0));
      best.noopFair = Math.max(best.noopFair, await throughput('fair', conns, SIZES.noopJobs, NOOP_CONCURRENCY, 0));
      best.slowPlain = Math.max(best.slowPlain, await throughput('plain', conns, SIZES.slowJobs, SLOW_CONCURRENCY, SIZES.slowJobMs));
      best.slowFair = Math.max(best.slowFair, await throughput('fair', conns, SIZES.slowJobs, SLOW_CONCURRENCY, SIZES.slowJobMs));
    }
    const { noopPlain, noopFair, slowPlain, slowFair } = best;
    const many = await manyTenants(conns);

    const expected: Record<string, number> = { 'w4-enterprise': 4 / 7, 'w2-pro': 2 / 7, 'w1-free': 1 / 7 };
    const lines = [
      `Scale ${SCALE} (BENCH_SCALE). One Node process runs producer, dispatcher and worker; local Redis. ` +
        `Fair window = ${WINDOW_FACTOR} x worker concurrency, admission batch ${BATCH}.`,
      '',
      `**Flood**: one tenant enqueues ${fmt(SIZES.floodJobs)} no-op jobs, then ${SIZES.smallTenants} tenants ` +
        `enqueue ${SIZES.smallJobsEach} each; queue wait (enqueue -> handler start) of the small tenants' jobs, ` +
        `concurrency ${NOOP_CONCURRENCY}. Target with the fair scheduler: p99 <= 1 s.`,
      '',
      '| | p50 wait (ms) | p99 wait (ms) | max wait (ms) | whole flood drained (ms) |',
      '|---|---:|---:|---:|---:|',
      `| plain BullMQ | ${fmt(floodPlain.p50)} | ${fmt(floodPlain.p99)} | ${fmt(floodPlain.max)} | ${fmt(floodPlain.floodDoneMs)} |`,
      `| fair scheduler | ${fmt(floodFair.p50)} | ${fmt(floodFair.p99)} | ${fmt(floodFair.max)} | ${fmt(floodFair.floodDoneMs)} |`,
      `| ratio plain / fair (p99) | | ${fmt(floodPlain.p99 / Math.max(1, floodFair.p99), 1)}x | | |`,
      '',
      `**Weights 4:2:1**: three backlogged tenants, shares of the first ${fmt(SIZES.weightSample)} jobs started. Target: within 2 points.`,
      '',
      '| tenant | weight | expected share | measured share | difference (points) |',
      '|---|---:|---:|---:|---:|',
      ...Object.entries(expected).map(
        ([tenant, share]) =>
          `| ${tenant} | ${tenant.slice(1, 2)} | ${fmt(share * 100, 2)}% | ${fmt(shares[tenant] * 100, 2)}% | ${fmt((shares[tenant] - share) * 100, 2)} |`,
      ),
      '',
      `**Throughput** (enqueue through handler start of the last job, 10 tenants, same process and concurrency for both; best of ${ROUNDS} alternating runs).`,
      '',
      '| workload | plain BullMQ (jobs/s) | fair scheduler (jobs/s) | fair / plain | target |',
      '|---|---:|---:|---:|---:|',
      `| ${fmt(SIZES.noopJobs)} no-op jobs, concurrency ${NOOP_CONCURRENCY} | ${fmt(noopPlain)} | ${fmt(noopFair)} | ${fmt(noopFair / noopPlain, 2)}x | 0.80x |`,
      `| ${fmt(SIZES.slowJobs)} ${SIZES.slowJobMs} ms jobs, concurrency ${SLOW_CONCURRENCY} | ${fmt(slowPlain)} | ${fmt(slowFair)} | ${fmt(slowFair / slowPlain, 2)}x | 0.95x |`,
      '',
      `**${fmt(many.tenants)} backlogged tenants** (${SIZES.manyJobsEach} jobs each, ${fmt(many.jobs)} jobs): ` +
        'admission script round trip as the dispatcher drains them, and Redis memory (INFO used_memory; the ' +
        'Redis is shared, so other clients add noise).',
      '',
      '| measure | value |',
      '|---|---:|',
      `| enqueue ${fmt(many.jobs)} jobs (enqueueBulk) | ${fmt(many.enqueueMs)} ms |`,
      `| admission calls | ${fmt(many.admitCalls)} |`,
      `| admission script round trip p50 / p99 / max | ${fmt(many.admitP50Ms, 2)} / ${fmt(many.admitP99Ms, 2)} / ${fmt(many.admitMaxMs, 2)} ms |`,
      `| admission cost per job | ${fmt(many.perJobUs, 1)} us |`,
      `| whole dispatch batch (admit + addBulk) p50 | ${fmt(many.batchP50Ms, 2)} ms |`,
      `| SLOWLOG entries during the run (over slowlog-log-slower-than): all / the scheduler's own scripts | ${many.slowAll} / ${many.slowOurs} |`,
      `| drain time | ${fmt(many.drainMs)} ms |`,
      `| used_memory before / at peak / after drain / after deleting the BullMQ queue | ` +
        `${mb(many.memBefore)} / ${mb(many.memPeak)} / ${mb(many.memAfter)} / ${mb(many.memCleaned)} MB |`,
      `| scheduler keys at peak / after drain | ${fmt(many.keysPeak)} / ${fmt(many.keysAfter)} |`,
    ];
    return { title: 'Fair per-tenant job scheduler vs plain BullMQ', markdown: lines.join('\n') };
  } finally {
    await Promise.all([conns.redis.quit(), conns.workerRedis.quit()]);
  }
}

if (require.main === module) {
  fairQueueBench()
    .then((section) => {
      process.stdout.write(`## ${section.title}\n\n${section.markdown}\n`);
    })
    .catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    });
}

import type { FairRedis } from './fair-queue';
import { decodeEntry, type AdmittedJob } from './fair-job';
import type { FairQueue } from './fair-queue';
import { policyDefaultsArgs } from './tenant-policy';

export interface FairDispatcherOptions {
  /**
   * Most jobs admitted and unfinished at once, across every dispatcher of the queue. Keep it a
   * small multiple (2-4x) of total worker concurrency: a job enqueued by a new tenant waits
   * behind at most this many, however large the other backlogs are.
   */
  window?: number;
  /** Most jobs admitted per Lua call (and per `addBulk`). */
  batchSize?: number;
  /**
   * Refill only once this many slots of the window are free (default min(batchSize,
   * window/4)): fewer wake-ups and larger addBulk calls under load.
   */
  refillThreshold?: number;
  /** Longest sleep without a wake-up, the fallback when a notification is missed. */
  pollMs?: number;
  /** How long a tenant at its concurrency cap stays parked if no release wakes it earlier. */
  capRecheckMs?: number;
  /** How often in-flight jobs are checked against BullMQ (covers releases lost to crashes). */
  reconcileIntervalMs?: number;
  /** Staged jobs older than this are presumed orphaned by a crashed dispatcher and re-added. */
  recoverAfterMs?: number;
  /** Errors of the background loop; it keeps going after each one. */
  onError?: (error: unknown) => void;
}

export interface DispatchResult {
  admitted: AdmittedJob[];
  /** Milliseconds until a parked tenant is due again; -1 if none is parked. */
  nextDueMs: number;
  /**
   * Call again at once: the call stopped at its batch or tenant limit with backlog and window
   * room left, not because the window is full or the backlog empty.
   */
  more: boolean;
}

const DEFAULTS = {
  window: 1000,
  batchSize: 200,
  pollMs: 250,
  capRecheckMs: 1000,
  reconcileIntervalMs: 5000,
  recoverAfterMs: 30_000,
};

/**
 * Moves jobs from tenant buffers into the BullMQ queue in weighted fair order. Any number of
 * dispatchers may run against one queue: admission is one atomic Lua call, and BullMQ dedupes
 * the deterministic job ids if two of them ever add the same staged job.
 */
export class FairDispatcher {
  private readonly opts: typeof DEFAULTS & { refillThreshold: number };
  private readonly onError: (error: unknown) => void;
  private readonly policyArgs: string[];
  /** Added to BullMQ; their staged copies are dropped by the next admission call. */
  private confirmable: string[] = [];
  /** Staged but not yet added, e.g. because addBulk failed: retried before admitting more. */
  private unadded: AdmittedJob[] = [];
  private blocking: FairRedis | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private sleepTimer: NodeJS.Timeout | undefined;
  private wakeSleep: (() => void) | undefined;

  constructor(
    private readonly queue: FairQueue,
    options: FairDispatcherOptions = {},
  ) {
    const merged = { ...DEFAULTS, ...stripUndefined(options) };
    if (!(merged.window >= 1 && merged.batchSize >= 1)) throw new RangeError('window and batchSize must be >= 1');
    const refillThreshold = Math.min(
      merged.window,
      merged.refillThreshold ?? Math.min(merged.batchSize, Math.ceil(merged.window / 4)),
    );
    this.opts = { ...merged, refillThreshold: Math.max(1, refillThreshold) };
    this.onError = options.onError ?? (() => undefined);
    this.policyArgs = policyDefaultsArgs(queue.defaultPolicy);
  }

  get running(): boolean {
    return this.loop !== undefined;
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.blocking = this.queue.connection.duplicate();
    // The blocking client only ever waits on the wake list; its errors surface through BLPOP.
    this.blocking.on('error', () => undefined);
    this.loop = this.run().finally(() => {
      this.loop = undefined;
    });
  }

  /** Finishes the batch in hand (added and confirmed), then returns. */
  async stop(): Promise<void> {
    if (!this.loop) return;
    this.stopping = true;
    this.wakeSleep?.();
    this.blocking?.disconnect();
    await this.loop;
    this.blocking = undefined;
  }

  /**
   * One admission: retries jobs staged earlier but not added, else admits up to `batchSize`
   * in fair order, adds them to BullMQ, and remembers them for confirmation.
   */
  async dispatchBatch(): Promise<DispatchResult> {
    if (this.unadded.length > 0) {
      const retry = this.unadded;
      await this.addToBullMQ(retry);
      this.unadded = [];
      return { admitted: retry, nextDueMs: 0, more: true };
    }
    const confirm = this.confirmable;
    let [nextDueMs, more, ...entries] = await this.admit(this.opts.batchSize, this.opts.refillThreshold, confirm);
    this.confirmable = [];
    // A call stops at a bounded number of tenants so it never holds Redis for long; with many
    // small backlogs, top the batch up in further short calls and still add it with one addBulk.
    let failure: unknown;
    while (Number(more) === 1 && entries.length > 0 && entries.length < this.opts.batchSize) {
      try {
        const [due, again, ...extra] = await this.admit(this.opts.batchSize - entries.length, -this.opts.refillThreshold, []);
        [nextDueMs, more] = [due, again];
        entries.push(...extra);
        if (extra.length === 0) break;
      } catch (error) {
        failure = error;
        break;
      }
    }
    const admitted = entries.map((entry) => decodeEntry(entry));
    if (admitted.length > 0) {
      try {
        await this.addToBullMQ(admitted);
      } catch (error) {
        this.unadded = admitted;
        throw error;
      }
    }
    if (failure !== undefined) throw failure;
    return { admitted, nextDueMs: Number(nextDueMs), more: Number(more) === 1 };
  }

  private admit(batch: number, refillThreshold: number, confirm: string[]): Promise<[number, number, ...string[]]> {
    return this.queue.scripts.admit([
      batch,
      this.opts.window,
      ...this.policyArgs,
      this.opts.capRecheckMs,
      refillThreshold,
      confirm.length,
      ...confirm,
    ]);
  }

  /** Drops the staged copies of jobs already added. Part of the next admission otherwise. */
  async confirm(): Promise<void> {
    if (this.confirmable.length === 0) return;
    const confirm = this.confirmable;
    this.confirmable = [];
    await this.queue.scripts.admit([0, 0, ...this.policyArgs, this.opts.capRecheckMs, 1, confirm.length, ...confirm]);
  }

  /**
   * Releases in-flight jobs that BullMQ has finished or lost, e.g. a worker killed after
   * completing a job but before releasing it, and forgets such jobs among those holds gave back,
   * then recomputes the window's total from the tenants' in-flight sets. Work is bounded by the
   * window and the jobs holds gave back.
   */
  async reconcile(): Promise<number> {
    const { keys, scripts, connection } = this.queue;
    let released = 0;
    for (const set of [keys.busy, keys.heldJobsTenants]) {
      let cursor = '0';
      do {
        const [next, tenants] = await connection.sscan(set, cursor, 'COUNT', 100);
        cursor = next;
        if (tenants.length > 0) released += await scripts.reconcile(keys.bullJobPrefix, tenants);
      } while (cursor !== '0');
    }
    // The total, too, is checked against the sets it counts, so nothing can shrink the window for good.
    await scripts.recount();
    return released;
  }

  /** Re-adds jobs staged by a dispatcher that crashed before adding them to BullMQ. */
  async recoverStaged(olderThanMs = this.opts.recoverAfterMs): Promise<number> {
    const { keys, scripts } = this.queue;
    let recovered = 0;
    for (;;) {
      const entries = await scripts.claimStaged(keys.bullJobPrefix, olderThanMs, this.opts.batchSize);
      if (entries.length === 0) return recovered;
      const jobs = entries.map((entry) => decodeEntry(entry));
      await this.addToBullMQ(jobs);
      recovered += jobs.length;
      if (entries.length < this.opts.batchSize) {
        await this.confirm();
        return recovered;
      }
    }
  }

  private async addToBullMQ(jobs: AdmittedJob[]): Promise<void> {
    const { jobOptions } = this.queue;
    await this.queue.queue.addBulk(
      jobs.map((job) => ({ name: job.data.name, data: job.data, opts: { ...jobOptions, jobId: job.id } })),
    );
    for (const job of jobs) this.confirmable.push(job.id);
  }

  private async run(): Promise<void> {
    await this.guard(() => this.recoverStaged());
    let lastMaintenance = Date.now();
    while (!this.stopping) {
      let result: DispatchResult | undefined;
      try {
        result = await this.dispatchBatch();
      } catch (error) {
        this.onError(error);
      }
      if (Date.now() - lastMaintenance >= this.opts.reconcileIntervalMs) {
        lastMaintenance = Date.now();
        await this.guard(() => this.reconcile());
        await this.guard(() => this.recoverStaged());
      }
      if (this.stopping) break;
      // Otherwise the window is full or the backlog empty, and another call now would only
      // confirm. Confirmations ride with the admission a release or enqueue wakes us for (at
      // the latest after pollMs); a job that finishes first drops its staged copy itself.
      if (result?.more) continue;
      const dueMs = result && result.nextDueMs >= 0 ? Math.max(1, result.nextDueMs) : this.opts.pollMs;
      await this.waitForWake(Math.min(dueMs, this.opts.pollMs), result === undefined);
    }
    await this.guard(() => this.confirm());
    // Without a refill level releases wake on every call, which is right when no dispatcher
    // runs; a remaining dispatcher sets it again on its next admission.
    await this.guard(() => this.queue.connection.del(this.queue.keys.refill));
  }

  /** Sleeps until an enqueue/release pushes a wake token, or `ms` passes. */
  private async waitForWake(ms: number, afterError: boolean): Promise<void> {
    const blocking = this.blocking;
    if (afterError || !blocking || ms < 20) {
      await new Promise<void>((resolve) => {
        this.wakeSleep = resolve;
        this.sleepTimer = setTimeout(resolve, ms);
      });
      clearTimeout(this.sleepTimer);
      this.wakeSleep = undefined;
      return;
    }
    try {
      await blocking.blpop(this.queue.keys.wake, ms / 1000);
    } catch (error) {
      if (!this.stopping) this.onError(error);
    }
  }

  private async guard(task: () => Promise<unknown>): Promise<void> {
    try {
      await task();
    } catch (error) {
      this.onError(error);
    }
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

import { randomUUID } from 'node:crypto';
import { Queue, type Job, type JobsOptions, type QueueOptions } from 'bullmq';
import { Cluster, type Redis } from 'ioredis';

/** One Redis or a Redis Cluster: every key of a queue shares its hash tag, so both work alike. */
export type FairRedis = Redis | Cluster;
import { BacklogFullError } from './backlog-full.error';
import { encodeEntry, fairJobId, decodeEntry, type FairJobData, type FairJobInput } from './fair-job';
import { assertJobId, assertTenantKey, FairQueueKeys } from './fair-queue.keys';
import { FairScripts } from './fair-scripts';
import {
  DEFAULT_TENANT_POLICY,
  decodePolicy,
  encodePolicy,
  resolvePolicy,
  type TenantPolicy,
} from './tenant-policy';
import type { FairQueueStats, TenantStats } from './tenant-stats';

export interface FairQueueOptions {
  /** 1-64 of [A-Za-z0-9_-]; names the hash tag `{fq:<name>}` and the BullMQ queue. */
  name: string;
  /** The BullMQ queue's name inside the tag; defaults to `name`. */
  bullQueueName?: string;
  /** Used for scheduler commands and the BullMQ Queue; never closed by the FairQueue. */
  connection: FairRedis;
  /** Applies to tenants without a stored override. Every process of one queue must agree. */
  defaultPolicy?: Partial<TenantPolicy>;
  /** Options of every job admitted into BullMQ; `jobId` is always the scheduler's. */
  jobOptions?: Omit<JobsOptions, 'jobId'>;
  /** Extra BullMQ Queue options; `connection` and `prefix` are fixed by the scheduler. */
  queueOptions?: Omit<QueueOptions, 'connection' | 'prefix'>;
}

export interface EnqueueResult {
  /** The BullMQ job id the job will carry. */
  jobId: string;
  status: 'added' | 'duplicate';
}

export interface BulkEnqueueResult {
  jobId: string;
  status: 'added' | 'duplicate' | 'backlog_full';
}

export type TenantJobInput<T = unknown> = FairJobInput<T> & { tenant: string };

/** Anything that identifies an admitted job: a BullMQ job of this queue or its id and tenant. */
export type ReleasableJob = Pick<Job<FairJobData>, 'id' | 'data'> | { tenant: string; id: string };

const BULK_CHUNK = 1000;
/** Entries per HSCAN page or HDEL of the earlier version's shared dedupe hash. */
const LEGACY_PAGE = 500;
/** Entries per XRANGE page or XDEL of BullMQ's event stream. */
const EVENTS_PAGE = 500;
/** A tenant key specific enough to look for in free text (the platform's tenant ids are UUIDs). */
const UUID_KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Per-tenant buffers in front of one ordinary BullMQ queue. Producers `enqueue` here; a
 * `FairDispatcher` moves jobs into BullMQ in weighted fair order; workers consume the BullMQ
 * queue and release each finished job's slot (see `attachFairRelease`).
 */
export class FairQueue {
  readonly keys: FairQueueKeys;
  readonly defaultPolicy: TenantPolicy;
  readonly jobOptions: JobsOptions;
  readonly connection: FairRedis;
  /** @internal shared with the dispatcher */
  readonly scripts: FairScripts;
  private readonly queueOptions: Omit<QueueOptions, 'connection' | 'prefix'>;
  private bullQueue: Queue<FairJobData> | undefined;

  constructor(options: FairQueueOptions) {
    this.keys = new FairQueueKeys(options.name, options.bullQueueName);
    this.defaultPolicy = resolvePolicy(DEFAULT_TENANT_POLICY, options.defaultPolicy ?? {});
    this.jobOptions = { removeOnComplete: true, removeOnFail: 1000, ...options.jobOptions };
    this.queueOptions = options.queueOptions ?? {};
    this.connection = options.connection;
    this.scripts = new FairScripts(options.connection, this.keys.active, this.keys.tag);
  }

  get name(): string {
    return this.keys.queueName;
  }

  /** Workers must use this name and `prefix: keys.bullPrefix` (or `createFairWorker`). */
  get queue(): Queue<FairJobData> {
    this.bullQueue ??= new Queue<FairJobData>(this.keys.queueName, {
      ...this.queueOptions,
      connection: this.connection,
      prefix: this.keys.bullPrefix,
    });
    return this.bullQueue;
  }

  /** Appends to the tenant's buffer. Throws `BacklogFullError` when its backlog is at the max. */
  async enqueue<T>(tenant: string, job: FairJobInput<T>): Promise<EnqueueResult> {
    const [result] = await this.enqueueBulk([{ ...job, tenant }]);
    if (result.status === 'backlog_full') {
      const policy = await this.getPolicy(tenant);
      throw new BacklogFullError(tenant, policy.maxBacklog);
    }
    return { jobId: result.jobId, status: result.status };
  }

  /** Many jobs in few round trips; a full backlog is reported per job, not thrown. */
  async enqueueBulk<T>(jobs: readonly TenantJobInput<T>[]): Promise<BulkEnqueueResult[]> {
    const now = Date.now();
    const prepared = jobs.map((job) => {
      assertTenantKey(job.tenant);
      if (job.jobId !== undefined) assertJobId(job.jobId);
      const id = fairJobId(job.tenant, job.jobId, randomUUID);
      const data: FairJobData<T> = { tenant: job.tenant, name: job.name, payload: job.data, enqueuedAt: now };
      return { id, args: [job.tenant, id, encodeEntry(id, data), job.jobId === undefined ? '0' : '1'] };
    });
    const results: BulkEnqueueResult[] = [];
    for (let start = 0; start < prepared.length; start += BULK_CHUNK) {
      const chunk = prepared.slice(start, start + BULK_CHUNK);
      const statuses = await this.scripts.enqueue(
        this.defaultPolicy.maxBacklog,
        chunk.flatMap((p) => p.args),
      );
      statuses.forEach((status, i) => {
        results.push({ jobId: chunk[i].id, status: status === 1 ? 'added' : status === 0 ? 'duplicate' : 'backlog_full' });
      });
    }
    return results;
  }

  /** Stores overrides for one tenant; unset fields keep following the defaults. */
  async setPolicy(tenant: string, patch: Partial<TenantPolicy>): Promise<void> {
    assertTenantKey(tenant);
    resolvePolicy(this.defaultPolicy, patch);
    await this.scripts.setPolicy(tenant, 'set', encodePolicy(patch));
  }

  /**
   * Sets the given fields only where the tenant has no value yet: a producer can apply a
   * tier-derived weight on every enqueue without undoing an operator's override.
   */
  async setPolicyDefaults(tenant: string, patch: Partial<TenantPolicy>): Promise<void> {
    assertTenantKey(tenant);
    resolvePolicy(this.defaultPolicy, patch);
    await this.scripts.setPolicy(tenant, 'default', encodePolicy(patch));
  }

  async clearPolicy(tenant: string): Promise<void> {
    assertTenantKey(tenant);
    await this.scripts.setPolicy(tenant, 'clear', {});
  }

  async getPolicy(tenant: string): Promise<TenantPolicy> {
    assertTenantKey(tenant);
    return decodePolicy(this.defaultPolicy, await this.connection.hgetall(this.keys.policy(tenant)));
  }

  /** Stops admitting the tenant's jobs; enqueue still buffers them, and jobs in flight finish. */
  async pause(tenant: string): Promise<void> {
    assertTenantKey(tenant);
    await this.scripts.pause(tenant);
  }

  async resume(tenant: string): Promise<void> {
    assertTenantKey(tenant);
    await this.scripts.resume(tenant);
  }

  /**
   * Stops admitting the tenant's jobs because of its own state (suspended, not yet provisioned,
   * its database unreachable), apart from an operator's `pause`: `unhold` lifts only this,
   * `resume` only a pause. The given in-flight jobs give their slots back, so held tenants never
   * fill the window; the caller keeps them in BullMQ (delayed) to run once the tenant is back,
   * outside the window; they still count against its cap until they finish. `holdForMs` is a
   * wait (an outage's) before which `unhold(tenant, { onlyIfDue: true })` lifts nothing: the
   * latest of those asked for, by Redis' clock. A hold without one drops it (the tenant's state
   * alone decides). Idempotent. Returns how many slots were given back.
   */
  async hold(tenant: string, jobs: readonly ReleasableJob[] = [], holdForMs?: number): Promise<number> {
    assertTenantKey(tenant);
    const ids = jobs.flatMap((job) => (job.id === undefined ? [] : [job.id]));
    return this.scripts.hold(tenant, holdForMs, ids);
  }

  /**
   * Gives the window slots of in-flight jobs back while they wait in BullMQ (delayed) for a reason
   * of their own, without holding the tenant; they still count against its cap until they finish.
   * Idempotent. Returns how many slots were given back.
   */
  async giveBack(tenant: string, jobs: readonly ReleasableJob[]): Promise<number> {
    assertTenantKey(tenant);
    const ids = jobs.flatMap((job) => (job.id === undefined ? [] : [job.id]));
    return this.scripts.giveBack(tenant, ids);
  }

  /** Lifts a hold; with `onlyIfDue`, only once its wait is over. Answers whether it was lifted. */
  async unhold(tenant: string, options: { onlyIfDue?: boolean } = {}): Promise<boolean> {
    assertTenantKey(tenant);
    return this.scripts.unhold(tenant, options.onlyIfDue ?? false);
  }

  /** Tenants held by `hold`, whatever their backlog, each with the end of its wait (ms since the epoch, Redis' clock) if it has one; few by nature. */
  async heldTenants(): Promise<Array<{ tenant: string; until: number | null }>> {
    // One snapshot: a hold taken between two reads would otherwise show without its `until`.
    const [held, until] = (await this.connection.multi().smembers(this.keys.held).hgetall(this.keys.heldUntil).exec())!.map(([error, value]) => {
      if (error) throw error;
      return value;
    }) as [string[], Record<string, string>];
    return held.map((tenant) => ({ tenant, until: until[tenant] === undefined ? null : Number(until[tenant]) }));
  }

  /**
   * How many records of the tenant the scheduler keeps: buffered and in-flight jobs, policy,
   * token bucket, its members and fields in the shared keys. 0 once `forgetTenant` has run.
   */
  async tenantRecords(tenant: string): Promise<number> {
    assertTenantKey(tenant);
    return (await this.scripts.forgetTenant('count', tenant)) + (await this.legacyDedupeIds(tenant)).length;
  }

  /**
   * Removes every record of the tenant in one atomic step and gives its in-flight slots back to
   * the window (deleting its keys by name would shrink the window for good); that step touches
   * the tenant's own records only, so it holds Redis no longer for a queue with many tenants.
   * Then the ids an earlier version kept in its shared dedupe hash, if any, in bounded commands.
   * Its jobs already in BullMQ are not touched. Returns how many records there were; idempotent.
   */
  async forgetTenant(tenant: string): Promise<number> {
    assertTenantKey(tenant);
    const forgotten = await this.scripts.forgetTenant('erase', tenant);
    const legacy = await this.legacyDedupeIds(tenant);
    for (let i = 0; i < legacy.length; i += LEGACY_PAGE) await this.connection.hdel(this.keys.legacyDedupe, ...legacy.slice(i, i + LEGACY_PAGE));
    return forgotten + legacy.length;
  }

  /**
   * The tenant's ids in the dedupe hash an earlier version shared between all tenants (no longer
   * written: it empties as their jobs finish). Paged with HSCAN from here, each command bounded,
   * where a script would block Redis for a walk through every tenant's ids.
   */
  private async legacyDedupeIds(tenant: string): Promise<string[]> {
    const ids = new Set<string>();
    let cursor = '0';
    do {
      const [next, page] = await this.connection.hscan(this.keys.legacyDedupe, cursor, 'MATCH', `${tenant}.*`, 'COUNT', LEGACY_PAGE);
      for (let i = 0; i < page.length; i += 2) ids.add(page[i]);
      cursor = next;
    } while (cursor !== '0');
    return [...ids];
  }

  /**
   * Ids of the tenant's jobs BullMQ keeps in any state (waiting, delayed, running, finished):
   * every id the scheduler gives starts with its tenant. Each of these sets is bounded (by the
   * window, the held jobs, the queue's removeOnComplete and removeOnFail). Also the ids of any key
   * left of a job in none of them (an orphaned hash, logs): the keys name the tenant as the
   * hashes do, and an erasure that counted only the listed ids left them uncounted.
   */
  async bullJobIds(tenant: string): Promise<string[]> {
    assertTenantKey(tenant);
    const key = (state: string) => `${this.keys.bullJobPrefix}${state}`;
    const ids = new Set<string>();
    for (const state of ['delayed', 'completed', 'failed', 'prioritized', 'waiting-children']) {
      let cursor = '0';
      do {
        const [next, page] = await this.connection.zscan(key(state), cursor, 'MATCH', `${tenant}.*`, 'COUNT', 1000);
        for (let i = 0; i < page.length; i += 2) ids.add(page[i]);
        cursor = next;
      } while (cursor !== '0');
    }
    for (const state of ['wait', 'paused', 'active']) {
      for (const id of await this.connection.lrange(key(state), 0, -1)) if (id.startsWith(`${tenant}.`)) ids.add(id);
    }
    // Job ids hold no ':', so what follows the id in a key (`:logs`, `:lock`) is BullMQ's suffix.
    await this.scanKeys(this.keys.bullJobPattern(tenant), async (found) => {
      for (const jobKey of found) ids.add(jobKey.slice(this.keys.bullJobPrefix.length).split(':')[0]);
    });
    return [...ids].sort();
  }

  /**
   * Removes the tenant's jobs from BullMQ, hash and every list or set naming them, through BullMQ's
   * own removal; a running one (locked) stays, to be removed once it has finished. For erasure:
   * deleting a job's hash by name left its id in BullMQ's lists, and a worker taking that id up
   * later wrote a hash naming the tenant again. Each removal adds a `removed` event naming the job
   * to BullMQ's stream: `removeBullEvents` after this. Answers how many were removed.
   */
  async removeBullJobs(tenant: string): Promise<number> {
    let removed = 0;
    for (const id of await this.bullJobIds(tenant)) removed += await this.queue.remove(id);
    return removed;
  }

  /**
   * Ids of the entries of BullMQ's event stream that name the tenant: one about a job of its (its
   * `jobId`), or, for a key as specific as a UUID, one with the key itself in any value (a failure's
   * reason, a return value); a short key ("1", "active") would match other tenants' counters and
   * event names. BullMQ trims the stream to its last `streams.events.maxLen` (10,000) events only
   * as new ones come, so an erased tenant's job ids stayed there for as long as the queue was
   * quiet. Read in bounded pages.
   */
  async bullEventIds(tenant: string): Promise<string[]> {
    assertTenantKey(tenant);
    const ownJob = `${tenant}.`;
    // Tenant keys are [A-Za-z0-9_-]: anything else around one ends it (job ids add a '.').
    const names = UUID_KEY.test(tenant) ? new RegExp(`(?:^|[^A-Za-z0-9_-])${tenant}(?:$|[^A-Za-z0-9_-])`) : undefined;
    const namesTenant = (fields: string[]) => {
      for (let i = 0; i + 1 < fields.length; i += 2) {
        if (fields[i] === 'jobId' && fields[i + 1].startsWith(ownJob)) return true;
        if (names?.test(fields[i + 1])) return true;
      }
      return false;
    };
    const ids: string[] = [];
    let start = '-';
    for (;;) {
      const page = await this.connection.xrange(this.keys.bullEvents, start, '+', 'COUNT', EVENTS_PAGE);
      for (const [id, fields] of page) if (namesTenant(fields)) ids.push(id);
      if (page.length < EVENTS_PAGE) return ids;
      start = `(${page[page.length - 1][0]}`;
    }
  }

  /**
   * Deletes the entries of BullMQ's event stream that name the tenant (see `bullEventIds`), a
   * bounded batch per command; the other tenants' entries stay. Answers how many were deleted.
   */
  async removeBullEvents(tenant: string): Promise<number> {
    const ids = await this.bullEventIds(tenant);
    let removed = 0;
    for (let i = 0; i < ids.length; i += EVENTS_PAGE) removed += await this.connection.xdel(this.keys.bullEvents, ...ids.slice(i, i + EVENTS_PAGE));
    return removed;
  }

  /**
   * Frees the in-flight slots of finished jobs (completed, or failed with no attempt left).
   * Idempotent. Calling it for a job that will be retried would let the tenant exceed its cap.
   */
  async release(jobs: ReleasableJob | readonly ReleasableJob[]): Promise<number> {
    const list = Array.isArray(jobs) ? (jobs as readonly ReleasableJob[]) : [jobs as ReleasableJob];
    const pairs: string[] = [];
    for (const job of list) {
      const tenant = 'tenant' in job ? job.tenant : job.data.tenant;
      if (job.id === undefined) continue;
      pairs.push(tenant, job.id);
    }
    if (pairs.length === 0) return 0;
    return this.scripts.release(pairs);
  }

  async tenantStats(tenant: string): Promise<TenantStats> {
    assertTenantKey(tenant);
    const k = this.keys;
    const [backlog, inFlight, head, paused, held, parked, policy] = (await this.connection
      .multi()
      .llen(k.buffer(tenant))
      .scard(k.inflight(tenant))
      .lindex(k.buffer(tenant), 0)
      .sismember(k.paused, tenant)
      .sismember(k.held, tenant)
      .zscore(k.parked, tenant)
      .hgetall(k.policy(tenant))
      .exec())!.map(([error, value]) => {
      if (error) throw error;
      return value;
    }) as [number, number, string | null, number, number, string | null, Record<string, string>];
    return {
      tenant,
      backlog,
      inFlight,
      oldestWaitMs: head ? Math.max(0, Date.now() - decodeEntry(head).data.enqueuedAt) : 0,
      paused: paused === 1,
      held: held === 1,
      parked: parked !== null,
      policy: decodePolicy(this.defaultPolicy, policy),
    };
  }

  /**
   * Tenants with a backlog: competing (in fair order), then parked, then paused or held.
   * O(limit log N) for the first two; paused and held tenants are few by nature.
   */
  async backloggedTenants(limit = 1000): Promise<string[]> {
    const k = this.keys;
    const active = await this.connection.zrange(k.active, 0, limit - 1);
    const parked = active.length < limit ? await this.connection.zrange(k.parked, 0, limit - active.length - 1) : [];
    const out = [...active, ...parked];
    if (out.length < limit) {
      for (const tenant of await this.stoppedTenants()) {
        if (out.length >= limit) break;
        if ((await this.connection.llen(k.buffer(tenant))) > 0) out.push(tenant);
      }
    }
    return out;
  }

  async stats(): Promise<FairQueueStats> {
    const k = this.keys;
    const [active, parked, stopped, total, staged] = await Promise.all([
      this.connection.zcard(k.active),
      this.connection.zcard(k.parked),
      this.stoppedTenants(),
      this.connection.get(k.inflightTotal),
      this.connection.hlen(k.staged),
    ]);
    let pausedWithBacklog = 0;
    for (const tenant of stopped) if ((await this.connection.llen(k.buffer(tenant))) > 0) pausedWithBacklog++;
    return { backloggedTenants: active + parked + pausedWithBacklog, inFlight: Number(total ?? 0), staged };
  }

  /** Paused or held, each once. */
  private async stoppedTenants(): Promise<string[]> {
    const [paused, held] = await Promise.all([this.connection.smembers(this.keys.paused), this.connection.smembers(this.keys.held)]);
    return [...new Set([...paused, ...held])];
  }

  /** Closes the BullMQ Queue handle; the shared connection stays open. */
  async close(): Promise<void> {
    await this.bullQueue?.close();
    this.bullQueue = undefined;
  }

  /**
   * Deletes every key of this queue, scheduler and BullMQ, including policies. For tests,
   * benchmarks and decommissioning; never while workers or dispatchers run.
   */
  async obliterate(): Promise<void> {
    await this.scanKeys(this.keys.pattern(), async (found, node) => {
      if (found.length > 0) await node.unlink(...found);
    });
  }

  /** Every key matching `pattern`, a SCAN page at a time, with the node that holds it. */
  private async scanKeys(pattern: string, each: (found: string[], node: Redis) => Promise<void>): Promise<void> {
    // On a cluster SCAN sees one node only: scan every master (the queue's slot lives on one of
    // them), once the client knows them (before it has connected, `nodes()` is empty).
    if (this.connection instanceof Cluster && this.connection.status !== 'ready') await this.connection.ping();
    const nodes = this.connection instanceof Cluster ? this.connection.nodes('master') : [this.connection];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        await each(found, node);
      } while (cursor !== '0');
    }
  }
}

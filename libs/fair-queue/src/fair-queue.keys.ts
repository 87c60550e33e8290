import { InvalidKeyError } from './invalid-key.error';

/** Tenant ids are UUIDs in practice; anything outside this set could forge another key. */
const KEY_PART = /^[A-Za-z0-9_-]{1,64}$/;
const JOB_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function assertTenantKey(tenant: string): void {
  if (typeof tenant !== 'string' || !KEY_PART.test(tenant)) throw new InvalidKeyError('tenant', String(tenant));
}

export function assertJobId(jobId: string): void {
  if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) throw new InvalidKeyError('jobId', String(jobId));
}

export function assertQueueName(name: string): void {
  if (typeof name !== 'string' || !KEY_PART.test(name)) throw new InvalidKeyError('queue', String(name));
}

function globEscape(text: string): string {
  return text.replace(/[{}[\]*?\\]/g, (c) => `\\${c}`);
}

/**
 * Every key of one fair queue, scheduler and BullMQ alike, starts with the hash tag `{fq:<name>}`
 * so that Redis Cluster puts them in one slot and every Lua script may touch all of them.
 * The Lua scripts derive per-tenant keys from `tag` + role + tenant, so this layout and the
 * scripts must change together.
 */
export class FairQueueKeys {
  /** `{fq:<name>}:` — the shared prefix of all scheduler keys. */
  readonly tag: string;
  /** BullMQ `prefix` option; BullMQ appends `:<queueName>:...`. */
  readonly bullPrefix: string;
  /** The one BullMQ queue the dispatcher admits into. */
  readonly queueName: string;
  /** BullMQ stores job `<id>` as a hash at `<bullJobPrefix><id>`; the reconciler reads it. */
  readonly bullJobPrefix: string;
  /** BullMQ's stream of the queue's events (added, completed, removed...), each naming its job id. */
  readonly bullEvents: string;

  readonly active: string;
  readonly parked: string;
  readonly lastPass: string;
  readonly virtualTime: string;
  readonly paused: string;
  readonly held: string;
  /** Held tenants whose hold is not due before a time (ms since the epoch, Redis' clock): an outage's wait. */
  readonly heldUntil: string;
  /** Tenants with jobs their holds gave back (see `heldJobs(tenant)`). */
  readonly heldJobsTenants: string;
  readonly busy: string;
  readonly inflightTotal: string;
  readonly staged: string;
  /**
   * The one shared hash of caller ids an earlier version kept for every tenant: still honoured
   * as a duplicate and drained (by finished jobs and `forgetTenant`), never written. See `dedupe`.
   */
  readonly legacyDedupe: string;
  readonly wake: string;
  readonly refill: string;

  /**
   * `bullQueue` names the BullMQ queue inside the tag; it defaults to the fair queue's name. A
   * framework that needs the queue name before configuration is read (a decorator) can fix it and
   * still keep deployments apart, since the tag carries the configured name.
   */
  constructor(name: string, bullQueue: string = name) {
    assertQueueName(name);
    assertQueueName(bullQueue);
    this.tag = `{fq:${name}}:`;
    this.bullPrefix = `{fq:${name}}:bull`;
    this.queueName = bullQueue;
    this.bullJobPrefix = `${this.bullPrefix}:${bullQueue}:`;
    this.bullEvents = `${this.bullJobPrefix}events`;
    this.active = `${this.tag}active`;
    this.parked = `${this.tag}parked`;
    this.lastPass = `${this.tag}lastpass`;
    this.virtualTime = `${this.tag}vt`;
    this.paused = `${this.tag}paused`;
    this.held = `${this.tag}held`;
    this.heldUntil = `${this.tag}held-until`;
    this.heldJobsTenants = `${this.tag}held-jobs`;
    this.busy = `${this.tag}busy`;
    this.inflightTotal = `${this.tag}inflight-total`;
    this.staged = `${this.tag}staged`;
    this.legacyDedupe = `${this.tag}dedupe`;
    this.wake = `${this.tag}wake`;
    this.refill = `${this.tag}refill`;
  }

  buffer(tenant: string): string {
    return `${this.tag}buf:${tenant}`;
  }

  inflight(tenant: string): string {
    return `${this.tag}inflight:${tenant}`;
  }

  /** Ids of the tenant's jobs a hold gave back: in BullMQ, unfinished, holding no slot. */
  heldJobs(tenant: string): string {
    return `${this.tag}held-jobs:${tenant}`;
  }

  /**
   * The tenant's caller job ids buffered or in flight (a set). Per tenant, so forgetting one
   * tenant deletes one key of its own: a hash shared by all made that one script walk everyone's.
   */
  dedupe(tenant: string): string {
    return `${this.tag}dedupe:${tenant}`;
  }

  policy(tenant: string): string {
    return `${this.tag}policy:${tenant}`;
  }

  tokens(tenant: string): string {
    return `${this.tag}tokens:${tenant}`;
  }

  /** SCAN pattern matching every key of the queue, scheduler and BullMQ alike. */
  pattern(): string {
    return `${globEscape(this.tag)}*`;
  }

  /** SCAN pattern matching every BullMQ key of the tenant's jobs: hashes, logs, locks. */
  bullJobPattern(tenant: string): string {
    return `${globEscape(this.bullJobPrefix)}${tenant}.*`;
  }
}

import { BulkheadConfig } from '@bulkhead/config';
import { ProblemBody, ProblemObserver } from '@bulkhead/problem';
import { runWithTenant, TenantContext, TenantData } from '@bulkhead/tenancy';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AuditEvent } from './audit-event';
import { AuditTrail, PLATFORM_TRAIL_ID } from './audit-trail';
import { currentRequestIntent } from './request-intent';
import { actorOf, boundaryOf, resolutionOf } from './tenant-actor';

const FLUSH_MS = 200;
const RETRY_MS = 1000;
const BATCH = 200;
/** Operator actions waiting to be written, per process (refusals: AUDIT_REFUSALS_MAX_PENDING); beyond it they are counted. */
const MAX_OPERATOR_PENDING = 100_000;
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

interface PendingRefusal {
  tenant: TenantContext | undefined;
  event: AuditEvent;
  /** Which queue it waits in: an operator's action, or a refusal. */
  operator: boolean;
}

/** Entries waiting to be written, up to `max`; what did not fit is counted. */
class PendingQueue {
  entries: PendingRefusal[] = [];
  dropped = 0;

  constructor(
    readonly max: number,
    readonly droppedAction: string,
  ) {}

  /** Adds to the back, or counts it when full; says whether it was queued. */
  push(entry: PendingRefusal): boolean {
    if (this.entries.length >= this.max) {
      this.dropped += 1;
      return false;
    }
    this.entries.push(entry);
    return true;
  }

  /** Puts entries a failed write returned back in front of the newer ones; what no longer fits is counted. */
  putBack(entries: PendingRefusal[]): void {
    const all = [...entries, ...this.entries];
    this.entries = all.slice(0, this.max);
    this.dropped += all.length - this.entries.length;
  }

  take(): { entries: PendingRefusal[]; dropped: number } {
    const taken = { entries: this.entries, dropped: this.dropped };
    this.entries = [];
    this.dropped = 0;
    return taken;
  }
}

/**
 * Records refused requests (every 401 and 403, with the problem's code) and failed state-changing
 * requests, told by the problem filter after the answer is sent. A refused request changed
 * nothing, so there is no write to commit with: entries are queued in memory and written in
 * batches (one transaction per chain every 200 ms), so a flood of bad tokens costs one INSERT per
 * batch, not one per request; through a PostgreSQL outage they wait in memory and are retried.
 * The price: what is queued when the process dies is lost, and past AUDIT_REFUSALS_MAX_PENDING
 * queued refusals the surplus is only counted (the count is recorded as an entry). Operator actions
 * (`enqueueOperatorAction`, and an operator's failed requests) are written the same way, so
 * operator routes that need only Redis keep working while PostgreSQL is down, but wait in a queue
 * of their own: a flood of bad tokens during an outage cannot push them out.
 * A failed request of a tenant goes into that tenant's chain; a refusal before any tenant was
 * established goes into the platform chain, with the tenant the token claimed.
 */
@Injectable()
export class RefusalRecorder implements ProblemObserver, OnApplicationShutdown {
  private readonly logger = new Logger('RefusalRecorder');
  private readonly refusals: PendingQueue;
  private readonly operatorActions = new PendingQueue(MAX_OPERATOR_PENDING, 'audit.operator_actions_dropped');
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** After a failed write, no batch is written before this (the retry's timer writes it). */
  private retryAt = 0;

  constructor(
    private readonly trail: AuditTrail,
    private readonly data: TenantData,
    config: BulkheadConfig,
  ) {
    this.refusals = new PendingQueue(config.AUDIT_REFUSALS_MAX_PENDING, 'audit.refusals_dropped');
  }

  observeProblem(problem: ProblemBody, request: { method: string; url?: string; id?: unknown; user?: unknown }): void {
    const refused = problem.status === 401 || problem.status === 403;
    if (!refused && !STATE_CHANGING.has(request.method)) return;
    const tenant = AuditTrail.tenantOrNone();
    const intent = currentRequestIntent();
    const principal = request.user as { subject?: string; tenantId?: string; scopes?: string[]; operator?: boolean } | undefined;
    const path = (request.url ?? '').split('?')[0].slice(0, 160);
    const event: AuditEvent = {
      action: intent?.action ?? `${request.method} ${path}`,
      outcome: refused ? 'refused' : 'failed',
      actor: tenant
        ? actorOf(tenant)
        : principal?.subject
          ? { kind: principal.operator ? 'operator' : 'tenant_user', subject: principal.subject, scopes: principal.scopes ?? [] }
          : { kind: 'anonymous' },
      resource: intent ? { type: intent.resourceType, id: intent.resourceId, route: intent.route } : { type: 'unrouted', route: path },
      requestId: typeof request.id === 'string' ? request.id : null,
      resolution: tenant ? resolutionOf(tenant) : { via: principal ? 'token' : 'none', claimedTenant: principal?.tenantId ?? null },
      boundary: tenant ? boundaryOf(tenant) : principal ? ['token_verified'] : [],
      status: problem.status,
      code: problem.code,
    };
    // An operator's failed request is one of its actions; anything else refused is a refusal.
    this.enqueue({ tenant, event, operator: !tenant && principal?.operator === true });
  }

  /** Queues an operator's action for the next batch, in the platform chain. */
  enqueueOperatorAction(event: AuditEvent): void {
    this.enqueue({ tenant: undefined, event, operator: true });
  }

  private enqueue(entry: PendingRefusal): void {
    const queued = (entry.operator ? this.operatorActions : this.refusals).push(entry);
    // Only a queued entry hastens the batch, and not while a failed write waits for its retry: a
    // flood of bad tokens during an outage must not turn into one write attempt per request.
    if (queued && this.refusals.entries.length + this.operatorActions.entries.length >= BATCH && Date.now() >= this.retryAt) void this.flush();
    else this.schedule(FLUSH_MS);
  }

  private schedule(delayMs: number): void {
    this.timer ??= setTimeout(() => void this.flush(), delayMs);
  }

  /** Writes everything queued; resolves when it is written (tests and shutdown wait on it). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing) await this.flushing;
    const [operators, refusals] = [this.operatorActions.take(), this.refusals.take()];
    const batch = [...operators.entries, ...refusals.entries];
    const dropped: AuditEvent[] = [];
    for (const [queue, taken] of [[this.operatorActions, operators], [this.refusals, refusals]] as const) {
      if (taken.dropped > 0) dropped.push({ action: queue.droppedAction, outcome: 'dropped', actor: { kind: 'system' }, details: { count: taken.dropped } });
    }
    if (batch.length === 0 && dropped.length === 0) return;
    this.flushing = this.write(batch, dropped).finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  /**
   * One transaction per chain. A chain whose write fails (PostgreSQL restarting, say) goes back to
   * the front of the queue and is retried a second later: entries wait out an outage in memory.
   */
  private async write(batch: PendingRefusal[], dropped: AuditEvent[]): Promise<void> {
    const chains = new Map<string, PendingRefusal[]>();
    // Appended in place: copying a chain's list for each entry was quadratic (a queue of 30,000
    // took seconds of the event loop, and the queues now hold up to 100,000 and more).
    const chainOf = (key: string) => {
      let entries = chains.get(key);
      if (!entries) chains.set(key, (entries = []));
      return entries;
    };
    for (const refusal of batch) chainOf(refusal.tenant?.tenantId ?? PLATFORM_TRAIL_ID).push(refusal);
    // A count of what was dropped is itself an operator-queue entry: it must not be dropped in turn.
    for (const event of dropped) chainOf(PLATFORM_TRAIL_ID).push({ tenant: undefined, event, operator: true });
    const failed: PendingRefusal[] = [];
    await Promise.all(
      [...chains.entries()].map(async ([key, entries]) => {
        try {
          const events = entries.map((entry) => entry.event);
          if (key === PLATFORM_TRAIL_ID) await this.trail.recordPlatform(events);
          else await runWithTenant(entries[0].tenant!, () => this.data.transaction((tx) => this.trail.recordAll(tx, events)));
        } catch (error) {
          this.logger.warn({ err: error }, 'audit entries could not be written yet; retrying');
          failed.push(...entries);
        }
      }),
    );
    if (failed.length) {
      this.retryAt = Date.now() + RETRY_MS;
      this.operatorActions.putBack(failed.filter((entry) => entry.operator));
      this.refusals.putBack(failed.filter((entry) => !entry.operator));
      this.schedule(RETRY_MS);
    }
  }
}

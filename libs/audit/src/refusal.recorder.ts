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
/** Refusals waiting to be written, per process; beyond it they are counted, and the count is recorded. */
const MAX_PENDING = 10_000;
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

interface PendingRefusal {
  tenant: TenantContext | undefined;
  event: AuditEvent;
}

/**
 * Records refused requests (every 401 and 403, with the problem's code) and failed state-changing
 * requests, told by the problem filter after the answer is sent. A refused request changed
 * nothing, so there is no write to commit with: entries are queued in memory and written in
 * batches (one transaction per chain every 200 ms), so a flood of bad tokens costs one INSERT per
 * batch, not one per request; through a PostgreSQL outage they wait in memory and are retried.
 * The price: what is queued when the process dies is lost, and past 10,000 queued the surplus is
 * only counted (the count is recorded as an entry). Operator actions go through the same queue
 * (`enqueue`), so operator routes that need only Redis keep working while PostgreSQL is down.
 * A failed request of a tenant goes into that tenant's chain; a refusal before any tenant was
 * established goes into the platform chain, with the tenant the token claimed.
 */
@Injectable()
export class RefusalRecorder implements ProblemObserver, OnApplicationShutdown {
  private readonly logger = new Logger('RefusalRecorder');
  private pending: PendingRefusal[] = [];
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly trail: AuditTrail,
    private readonly data: TenantData,
  ) {}

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
    this.enqueue(tenant, event);
  }

  /** Queues an entry for the next batch: of `tenant`'s chain, or of the platform chain without one. */
  enqueue(tenant: TenantContext | undefined, event: AuditEvent): void {
    if (this.pending.length >= MAX_PENDING) {
      this.dropped += 1;
      return;
    }
    this.pending.push({ tenant, event });
    if (this.pending.length >= BATCH) void this.flush();
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
    const batch = this.pending;
    const dropped = this.dropped;
    this.pending = [];
    this.dropped = 0;
    if (batch.length === 0 && dropped === 0) return;
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
  private async write(batch: PendingRefusal[], dropped: number): Promise<void> {
    const chains = new Map<string, PendingRefusal[]>();
    for (const refusal of batch) {
      const key = refusal.tenant?.tenantId ?? PLATFORM_TRAIL_ID;
      chains.set(key, [...(chains.get(key) ?? []), refusal]);
    }
    if (dropped > 0) {
      chains.set(PLATFORM_TRAIL_ID, [
        ...(chains.get(PLATFORM_TRAIL_ID) ?? []),
        { tenant: undefined, event: { action: 'audit.refusals_dropped', outcome: 'dropped', actor: { kind: 'system' }, details: { count: dropped } } },
      ]);
    }
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
      this.pending = [...failed, ...this.pending].slice(0, MAX_PENDING);
      this.schedule(RETRY_MS);
    }
  }
}

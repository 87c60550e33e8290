import { ProblemBody, ProblemObserver } from '@bulkhead/problem';
import { runWithTenant, TenantContext, TenantData } from '@bulkhead/tenancy';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AuditEvent } from './audit-event';
import { AuditTrail, PLATFORM_TRAIL_ID } from './audit-trail';
import { currentRequestIntent } from './request-intent';
import { actorOf, boundaryOf, resolutionOf } from './tenant-actor';

const FLUSH_MS = 200;
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
 * batch, not one per request. The price: refusals of the last 200 ms before a crash can be lost,
 * and past 10,000 queued the surplus is only counted (the count is recorded as an entry).
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
    if (this.pending.length >= MAX_PENDING) {
      this.dropped += 1;
      return;
    }
    this.pending.push({ tenant, event });
    if (this.pending.length >= BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
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

  private async write(batch: PendingRefusal[], dropped: number): Promise<void> {
    const chains = new Map<string, PendingRefusal[]>();
    for (const refusal of batch) {
      const key = refusal.tenant?.tenantId ?? PLATFORM_TRAIL_ID;
      chains.set(key, [...(chains.get(key) ?? []), refusal]);
    }
    const platform = chains.get(PLATFORM_TRAIL_ID)?.map((r) => r.event) ?? [];
    chains.delete(PLATFORM_TRAIL_ID);
    if (dropped > 0) platform.push({ action: 'audit.refusals_dropped', outcome: 'dropped', actor: { kind: 'system' }, details: { count: dropped } });
    const writes: Array<Promise<void>> = [];
    if (platform.length) writes.push(this.trail.recordPlatform(platform));
    for (const refusals of chains.values()) {
      writes.push(runWithTenant(refusals[0].tenant!, () => this.data.transaction((tx) => this.trail.recordAll(tx, refusals.map((r) => r.event)))));
    }
    for (const result of await Promise.allSettled(writes)) {
      if (result.status === 'rejected') this.logger.error({ err: result.reason }, 'refused requests could not be recorded in the audit trail');
    }
  }
}

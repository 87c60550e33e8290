import { BulkheadConfig } from '@bulkhead/config';
import { TenantRegistry } from '@bulkhead/control-plane';
import { isTenantId } from '@bulkhead/database';
import { isInfrastructureFailure, ProblemError } from '@bulkhead/problem';
import { runWithTenant, TenantContext, tenantContextOf, TenantData } from '@bulkhead/tenancy';
import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';

/** Transactions of a round run at once; the rest wait for the next. */
const CONCURRENCY = 4;
/** Pool tenants chained in one transaction (one call of `audit_chain_pending_many`). */
const POOL_BATCH = 200;
/** After a failed round (PostgreSQL unreachable) the tenant is tried again this much later. */
const RETRY_MS = 1000;

/**
 * Links committed, pending audit entries into their tenant's chain, shortly after the write that
 * committed them. A write only inserts its entry (no lock, no hashing); this takes the tenant's
 * chain-head lock once per round for all the entries that arrived meanwhile, in a transaction of
 * its own, so a busy tenant's writes no longer commit one at a time. Entries are never lost here:
 * they are already committed, and whatever a crash or an outage leaves pending is linked by the
 * next round, by the worker's sweep (every AUDIT_CHECKPOINT_INTERVAL_MS), or before a read of the
 * trail.
 */
@Injectable()
export class AuditChainer implements BeforeApplicationShutdown {
  private readonly due = new Map<string, TenantContext>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly logger = new Logger('AuditChainer');

  constructor(
    private readonly data: TenantData,
    private readonly registry: TenantRegistry,
    private readonly config: BulkheadConfig,
  ) {}

  /** Chains `tenant`'s pending entries within AUDIT_CHAIN_DELAY_MS (called after a commit that added one). */
  schedule(tenant: TenantContext): void {
    if (!this.due.has(tenant.tenantId)) this.due.set(tenant.tenantId, placementOnly(tenant));
    this.arm(this.config.AUDIT_CHAIN_DELAY_MS);
  }

  /**
   * Chains `tenant`'s pending entries now and waits for it (before reading the trail, before
   * erasing it). A round already under way finishes first: it may hold the tenant, and it would
   * write its chain head back after an erasure that did not wait for it.
   */
  async chainNow(tenant: TenantContext): Promise<void> {
    this.due.delete(tenant.tenantId);
    await this.running;
    await this.chain(placementOnly(tenant));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    // Last round; whatever fails stays pending for the worker's sweep.
    await this.round().catch(() => undefined);
  }

  private arm(delayMs: number): void {
    if (this.timer || this.running || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.round().finally(() => {
        this.running = undefined;
        if (this.due.size > 0) this.arm(this.config.AUDIT_CHAIN_DELAY_MS);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async round(): Promise<void> {
    const due = [...this.due.values()];
    this.due.clear();
    let failed = 0;
    const units = unitsOf(due);
    for (let start = 0; start < units.length; start += CONCURRENCY) {
      const outcomes = await Promise.all(units.slice(start, start + CONCURRENCY).map((unit) => this.chainUnit(unit)));
      for (const { tenant, error } of outcomes.flat()) {
        const again = await this.retryOf(tenant, error);
        if (!again) continue;
        failed += 1;
        if (!this.due.has(tenant.tenantId)) this.due.set(tenant.tenantId, again);
        this.logger.warn({ err: error, tenantId: tenant.tenantId }, 'audit entries left pending; chaining again shortly');
      }
    }
    if (failed > 0 && !this.stopped) await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
  }

  /**
   * Where to chain a tenant that failed, or nothing: an outage is waited out in the same place; a
   * tenant moved since its entries were written is chained where it lives now (its entries moved
   * with its data); an erased tenant's entries went with its storage, and retrying its dropped
   * schema or database would fail forever.
   */
  private async retryOf(tenant: TenantContext, error: unknown): Promise<TenantContext | undefined> {
    // An outage or a busy tenant (its gate full) is waited out without asking the registry: under
    // load that would be one more query per tenant per round. (Not every 503: a dropped schema
    // reads as `placement_outdated`, and that one the registry must explain.)
    if (isInfrastructureFailure(error) || (error instanceof ProblemError && error.code === 'overloaded')) return tenant;
    // The cached record: a move or an erasure is announced on the change feed, which drops it.
    const current = await this.registry.findCachedById(tenant.tenantId).catch(() => undefined);
    if (current === undefined) return tenant;
    if (current === null || current.status === 'deleted') {
      this.logger.log({ tenantId: tenant.tenantId }, 'audit chaining stopped: the tenant was erased with its trail');
      return undefined;
    }
    return placementOnly(tenantContextOf(current, 'audit-chainer'));
  }

  /**
   * A unit is one tenant, or several pool tenants of one cluster chained in one transaction. If
   * that fails, each is tried on its own, so one tenant's trouble holds no other tenant's entries
   * back. Answers the tenants left pending.
   */
  private async chainUnit(unit: readonly TenantContext[]): Promise<Array<{ tenant: TenantContext; error: unknown }>> {
    if (unit.length > 1) {
      try {
        await this.chainPool(unit);
        return [];
      } catch {
        // One by one below.
      }
    }
    // One after another: a failed batch of hundreds must not take every pooled connection at once.
    const left: Array<{ tenant: TenantContext; error: unknown }> = [];
    for (const tenant of unit) await this.chain(tenant).catch((error: unknown) => left.push({ tenant, error }));
    return left;
  }

  /** Pool tenants of one cluster: one transaction in the first one's context; the function sets each tenant in turn. */
  private chainPool(unit: readonly TenantContext[]): Promise<void> {
    if (!unit.every((tenant) => isTenantId(tenant.tenantId))) return Promise.reject(new Error('not a tenant id'));
    const ids = unit.map((tenant) => `'${tenant.tenantId}'`).join(',');
    return runWithTenant(unit[0], () =>
      this.data.transaction(async (tx) => {
        tx.commitWith(`SELECT audit_chain_pending_many(ARRAY[${ids}]::uuid[])`);
      }),
    );
  }

  /** One round trip besides the one that opens the transaction: the call travels in the COMMIT message. */
  private chain(tenant: TenantContext): Promise<void> {
    if (!isTenantId(tenant.tenantId)) return Promise.reject(new Error('not a tenant id'));
    return runWithTenant(tenant, () =>
      this.data.transaction(async (tx) => {
        tx.commitWith(`SELECT audit_chain_pending('${tenant.tenantId}'::uuid)`);
      }),
    );
  }
}

/**
 * What a round chains together: the pool tenants of each cluster share one shared database, so
 * they go in batches of one transaction; a schema or silo tenant has its own tables (and its own
 * copy of the chaining functions), so it is a unit of its own.
 */
function unitsOf(due: readonly TenantContext[]): TenantContext[][] {
  const pools = new Map<string, TenantContext[]>();
  const units: TenantContext[][] = [];
  for (const tenant of due) {
    if (tenant.isolation !== 'pool') {
      units.push([tenant]);
      continue;
    }
    const pool = pools.get(tenant.cluster) ?? [];
    pools.set(tenant.cluster, pool);
    pool.push(tenant);
  }
  for (const pool of pools.values()) {
    for (let start = 0; start < pool.length; start += POOL_BATCH) units.push(pool.slice(start, start + POOL_BATCH));
  }
  return units;
}

/**
 * The tenant's placement and nothing of the unit of work that wrote (its request, resolution or
 * a read-only impersonation): chaining is the platform's bookkeeping, not the caller's act.
 */
function placementOnly(tenant: TenantContext): TenantContext {
  return tenantContextOf(
    {
      id: tenant.tenantId,
      slug: tenant.slug,
      tier: tenant.tier,
      isolation: tenant.isolation,
      region: tenant.region,
      cluster: tenant.cluster,
      schemaName: tenant.schemaName,
      databaseName: tenant.databaseName,
    },
    'audit-chainer',
  );
}

import { Injectable } from '@nestjs/common';
import { EntityTarget } from 'typeorm';
import { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import { currentTenant } from '../context/tenant-context.store';
import { TenantContext } from '../context/tenant-context';
import { BulkheadConfig } from '@bulkhead/config';
import { DataSourceRouter, PlacedTenant, PlacementMovingProblem, placementFenceLockSql, TenantRegistry } from '@bulkhead/control-plane';
import { FenceWatch } from './fence-watch';
import { followMovedPlacement, isPlacementFenced, isPlacementGone, isPlacementMoved, placedTenantOf, placedTenantOfRecord, placementCheckOf, samePlacement } from './moved-placement';
import { TenantBoundaryViolationError } from './boundary.errors';
import { ScopedReader } from './scoped-reader';
import { ScopedRepository } from './scoped-repository';
import { TenantOwnedEntity } from './tenant-owned.entity';
import { TenantQueryRunner } from './tenant-query-runner';
import { joinedScope, runInScope } from './transaction-scope';

/** One unit of work on the current tenant's data. */
export class TenantTransaction {
  constructor(
    private readonly runner: TenantQueryRunner,
    readonly tenantId: string,
  ) {}

  repository<E extends TenantOwnedEntity>(target: EntityTarget<E>): ScopedRepository<E> {
    return new ScopedRepository(this.runner.manager, target, this.tenantId);
  }

  /**
   * One statement TypeORM cannot build (a bulk `INSERT ... ON CONFLICT ... RETURNING`, an upsert
   * of counters), in this transaction. `$1` is always this transaction's tenant id, prepended to
   * `values`: the statement must use it as `tenant_id = $1` (or insert it) on every tenant table it
   * names, and RLS refuses any row of another tenant whatever the text says. Rows come back raw
   * (database column names); an UPDATE or DELETE answers its RETURNING rows.
   */
  async statement<R = Record<string, unknown>>(text: string, values: readonly unknown[] = []): Promise<R[]> {
    const result = (await this.runner.query(text, [this.tenantId, ...values], true)) as { records?: R[] };
    return result.records ?? [];
  }

  /**
   * Takes a transaction-level advisory lock on `name` within this tenant's namespace, without
   * waiting: true when taken (held until COMMIT or ROLLBACK, also when the connection dies), false
   * when another transaction holds it. The lock key hashes the tenant id with the name, so two
   * tenants never contend for the same lock (short of a 64-bit hash collision).
   */
  async tryAdvisoryLock(name: string): Promise<boolean> {
    const rows = (await this.runner.query('SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked', [`${this.tenantId}:${name}`])) as Array<{ locked: boolean }>;
    return rows[0]?.locked === true;
  }

  /** Rows created so far through scoped repositories (table and id; the first 20). */
  get created(): ReadonlyArray<{ readonly table: string; readonly id: string }> {
    return this.runner.created;
  }

  /** Whether this transaction (or the scope it joined) has changed any data so far. */
  get wrote(): boolean {
    return this.runner.wrote;
  }

  /**
   * Sends `statement` in the COMMIT message of the outermost transaction: it commits with the
   * transaction's writes, or neither commits. Literals only, no bind parameters; it runs under
   * the same tenant setting and RLS as everything else in the transaction. Sent from a transaction
   * that joined a scope (a SAVEPOINT) and then rolled back, it is dropped with that work.
   */
  commitWith(statement: string): void {
    this.runner.beforeCommit(statement);
  }

  /** Runs `callback` once the outermost transaction has committed (never if it, or the SAVEPOINT it was queued in, rolls back). It must not throw. */
  afterCommit(callback: () => void): void {
    this.runner.afterCommit(callback);
  }
}

/** An operator impersonating with a read grant: every transaction is READ ONLY, whatever the route does. */
function readOnlyContext(tenant: TenantContext): boolean {
  return tenant.resolution?.impersonation?.mode === 'read';
}

/**
 * Runs before the COMMIT of every outermost write transaction (a scope, or a transaction outside
 * one), in its tenant context; a hook that throws rolls the transaction back. `@bulkhead/audit`
 * adds the audit entry of the write this way, so the entry and the write commit together.
 */
export interface TenantCommitHook {
  beforeCommit(tx: TenantTransaction): Promise<void> | void;
}

export interface TenantTransactionOptions {
  readOnly?: boolean;
  /** REPEATABLE READ gives a multi-statement read one snapshot (an export, a report). */
  isolationLevel?: IsolationLevel;
}

/**
 * The only way to tenant tables. It takes the tenant from the current context (never from a
 * caller), asks the router where that tenant lives, and runs the work in one transaction that
 * opened by setting the tenant. With no tenant context it throws before touching the database.
 *
 * Inside `transactionScope(work)` every `transaction` and `read` of the same context joins the
 * scope's transaction (a `transaction` as a SAVEPOINT, so its failure undoes only its own work),
 * so what they write commits or rolls back with whatever the scope writes around them.
 */
/**
 * How long a write refused by its tenant's move fence keeps waiting for it to lift before a 503: a
 * fence lasts the final catch-up and parity check (well under a second for 100,000 rows), and a
 * mover that dies lets go of it with its session.
 */
const FENCE_PATIENCE_MS = 60_000;

@Injectable()
export class TenantData {
  private readonly commitHooks: TenantCommitHook[] = [];
  private readonly fences = new FenceWatch();
  private readonly relocate = (placed: PlacedTenant, error: unknown) => this.movedFrom(placed, error);

  constructor(
    private readonly router: DataSourceRouter,
    private readonly registry: TenantRegistry,
    private readonly config: BulkheadConfig,
  ) {}

  /** Adds a hook run before every outermost write transaction commits (see `TenantCommitHook`). */
  addCommitHook(hook: TenantCommitHook): void {
    this.commitHooks.push(hook);
  }

  /** Single-statement reads of the current tenant's data, each in one round trip (or in the open scope). */
  read<E extends TenantOwnedEntity>(target: EntityTarget<E>): ScopedReader<E> {
    const tenant = currentTenant();
    return new ScopedReader(this.router, placedTenantOf(tenant), target, joinedScope(tenant.tenantId)?.runner, this.relocate);
  }

  async transaction<T>(work: (tx: TenantTransaction) => Promise<T>, options: TenantTransactionOptions = {}): Promise<T> {
    const tenant = currentTenant();
    const scope = joinedScope(tenant.tenantId);
    if (scope) {
      // The scope's transaction started long ago; it cannot take another isolation level now.
      if (options.isolationLevel !== undefined) throw new TenantBoundaryViolationError('a transaction with its own isolation level cannot join a transaction scope');
      return this.savepoint(scope.runner, tenant.tenantId, work);
    }
    return this.open({ readOnly: options.readOnly || readOnlyContext(tenant), isolationLevel: options.isolationLevel }, work);
  }

  /**
   * Opens one write transaction for `work` and makes it the one every `transaction` and `read`
   * inside `work` joins: a request that must commit its writes together with something of its
   * own (the idempotency record of its response) wraps its handler in it. Scopes do not nest.
   */
  async transactionScope<T>(work: (tx: TenantTransaction) => Promise<T>): Promise<T> {
    const tenant = currentTenant();
    // Refused before taking a connection: a nested scope would otherwise wait for its own.
    if (joinedScope(tenant.tenantId)) throw new TenantBoundaryViolationError('transaction scopes do not nest');
    return this.open({ readOnly: readOnlyContext(tenant) }, (tx, runner) => runInScope({ tenantId: tenant.tenantId, runner }, () => work(tx)));
  }

  /**
   * Runs the transaction on the unit's placement. A write that meets the tenant's move fence is
   * refused (rolled back, nothing written) and runs again, whole, once the fence is free (FenceWatch),
   * its connection back in the pool meanwhile (a write waiting in the database would hold it, and
   * enough of them would hold every one); once the move switched, the old placement refuses it and
   * it runs again on the new placement (as it does when it outlived the move's grace period and
   * finds a schema or silo placement dropped): the tenant's writes wait through a move, they do not fail.
   * Only a fence held FENCE_PATIENCE_MS, or a switch not seen within ten times
   * POOL_QUEUE_BUDGET_MS, is a 503.
   */
  private async open<T>(options: TenantTransactionOptions, work: (tx: TenantTransaction, runner: TenantQueryRunner) => Promise<T>): Promise<T> {
    const tenant = currentTenant();
    let placed = placedTenantOf(tenant);
    const deadline = Date.now() + this.config.POOL_QUEUE_BUDGET_MS * 10;
    let fencedUntil: number | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.openOn(placed, options, work);
      } catch (error) {
        if (isPlacementFenced(error)) {
          // Counted from the first refusal, not from the start of the work: a long unit of work
          // meeting a fence still gets the whole patience.
          fencedUntil ??= Date.now() + FENCE_PATIENCE_MS;
          if (Date.now() > fencedUntil) throw new PlacementMovingProblem();
          await this.fences.wait(`${placed.tenantId}/${placed.isolation}/${placed.cluster}/${placed.schemaName ?? ''}/${placed.databaseName ?? ''}`, () => this.fenceFree(placed), fencedUntil);
          continue;
        }
        const gone = isPlacementGone(error, placed);
        if (!gone && !isPlacementMoved(error)) throw error;
        const now = await this.placementNow(placed);
        // Missing where the tenant still lives is not a move: the error stands.
        if (now === undefined || (now === 'unchanged' && gone)) throw error;
        if (now === 'unchanged') {
          // Refused by the old placement, but the registry has not switched yet (a mover resuming): wait.
          if (Date.now() > deadline) throw new PlacementMovingProblem();
          await new Promise((resolve) => setTimeout(resolve, Math.min(25 * 2 ** attempt, 250)));
          continue;
        }
        placed = now;
      }
    }
  }

  /**
   * Where the tenant lives now, when a read met its placement dropped (see isPlacementGone)
   * because it outlived a move's grace period: the unit follows the tenant there, and stays.
   * Undefined when it was not a move (the registry still has the tenant there) or no active tenant.
   */
  private async movedFrom(placed: PlacedTenant, error: unknown): Promise<PlacedTenant | undefined> {
    if (!isPlacementGone(error, placed)) return undefined;
    const now = await this.placementNow(placed);
    return now === 'unchanged' ? undefined : now;
  }

  /**
   * The registry's placement of the unit's tenant, read fresh (the cached entry forgotten), after
   * `placed` refused or lost the unit's work: a new placement, which the unit follows from then on
   * (it reads what it wrote); 'unchanged' when the registry still has the tenant on `placed`; or
   * undefined when there is no active tenant (fail closed: the caller's error stands).
   */
  private async placementNow(placed: PlacedTenant): Promise<PlacedTenant | 'unchanged' | undefined> {
    const tenant = currentTenant();
    const current = await this.registry.findById(tenant.tenantId);
    if (!current || current.status !== 'active') return undefined;
    this.registry.forget(current);
    const next = placedTenantOfRecord(current, tenant.tier);
    if (samePlacement(next, placed) && next.placementVersion === placed.placementVersion) return 'unchanged';
    followMovedPlacement(next);
    return next;
  }

  /** Whether the tenant's move fence on `placed` is free now (a lock tried and let go in one statement). */
  private fenceFree(placed: PlacedTenant): Promise<boolean> {
    return this.router
      .use(placed, async (placement) => {
        const rows: Array<{ free: boolean }> = await placement.dataSource.query(`SELECT pg_try_advisory_xact_lock_shared(${placementFenceLockSql('$1')}) AS free`, [placed.tenantId]);
        return rows[0]?.free === true;
      }, { critical: true })
      // A silo dropped after the move: nothing fences there any more; the write runs again and follows the tenant.
      .catch((error: unknown) => {
        if (isPlacementGone(error, placed)) return true;
        throw error;
      });
  }

  private openOn<T>(placed: PlacedTenant, options: TenantTransactionOptions, work: (tx: TenantTransaction, runner: TenantQueryRunner) => Promise<T>): Promise<T> {
    const tenant = currentTenant();
    return this.router.use(
      placed,
      async (placement) => {
        const runner = TenantQueryRunner.create(placement.dataSource, {
          tenantId: tenant.tenantId,
          searchPath: placement.searchPath,
          readOnly: options.readOnly,
        });
        try {
          await runner.startTransaction(options.isolationLevel);
          const tx = new TenantTransaction(runner, tenant.tenantId);
          const result = await work(tx, runner);
          if (!options.readOnly) {
            for (const hook of this.commitHooks) await hook.beforeCommit(tx);
            const check = placementCheckOf(placed);
            if (check) runner.beforeCommit(check);
          }
          await runner.commitTransaction();
          return result;
        } catch (error) {
          if (runner.isTransactionActive) await runner.rollbackTransaction().catch((rollbackError) => runner.discard(rollbackError));
          throw error;
        } finally {
          await runner.release();
        }
      },
      // A write waits longer for a connection than a read before the gate refuses it.
      { critical: !options.readOnly },
    );
  }

  private async savepoint<T>(runner: TenantQueryRunner, tenantId: string, work: (tx: TenantTransaction) => Promise<T>): Promise<T> {
    await runner.startTransaction();
    try {
      const result = await work(new TenantTransaction(runner, tenantId));
      await runner.commitTransaction();
      return result;
    } catch (error) {
      // Back to the savepoint; the scope decides what happens to the rest. Should that fail, the
      // scope's own rollback discards the connection: report the work's error, not the rollback's.
      await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  }
}

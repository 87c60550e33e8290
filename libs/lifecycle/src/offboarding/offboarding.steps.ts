import { CryptoShredder } from '@bulkhead/audit';
import { BulkheadConfig } from '@bulkhead/config';
import { TenantAdmin, TenantRecord, TenantRepository } from '@bulkhead/control-plane';
import { isLockTimeout } from '@bulkhead/database';
import { TenantMover } from '@bulkhead/tenant-moves';
import { Injectable, Logger } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { LifecycleOutbox } from '../events/lifecycle-outbox';
import { LifecycleStore } from '../lifecycle.store';
import { PermanentStepError, SagaStep, StepContext, StepNotDueError } from '../saga/saga-step';
import { StorageOperations } from '../warm-pool/storage-operations';
import { FormerPlacements } from './former-placements';
import { PlacementData } from './placement-data';
import { RedisTenantKeys } from './redis-tenant-keys';
import { TenantRecordsEraser, TenantRecordsEraserProvider } from './tenant-records-eraser';

/** How often the grace step looks again for a move of the tenant to finish. */
const MOVE_WAIT_MS = 5_000;
/**
 * How long one run of the erase step lets a schema's DROP wait for a straggler's lock (in steps of
 * a short lock_timeout, see `StorageOperations.dropSchema`), and how soon it looks again after.
 * A lock is transient: the step sleeps in the ledger instead of holding a saga worker, and never
 * counts it as a failure (past the point of no return, failures leave the saga for an operator).
 */
const SCHEMA_LOCK_WAIT_MS = 2_000;
const STORAGE_BUSY_RETRY_MS = 1_000;
/**
 * The same for a silo's DROP DATABASE, refused while anything is connected to it (the instances'
 * idle pools close within SILO_IDLE_MS of the fence): each run waits this long, then sleeps in the
 * ledger and looks again, rather than counting a failure after a fixed wait.
 */
const SILO_DROP_WAIT_MS = 5_000;
const OBJECT_IN_USE = '55006';

export const OFFBOARDING_STEPS = ['fence', 'export', 'grace', 'erase', 'verify', 'certify', 'announce'] as const;

/**
 * Offboarding: fence the tenant (suspended: its tokens get 403, its jobs are parked, nothing writes),
 * export everything it owns into one archive with a manifest (rows and SHA-256 per table), wait out
 * the grace period (an operator's restore aborts the saga: the fence's compensation reactivates the
 * tenant, whose data was never touched), erase it from every store, verify by enumerating every
 * store again, keep an erasure certificate, announce `tenant.erased`.
 */
@Injectable()
export class OffboardingSteps {
  private readonly logger = new Logger('Offboarding');

  constructor(
    private readonly admin: TenantAdmin,
    private readonly tenants: TenantRepository,
    private readonly data: PlacementData,
    private readonly redis: RedisTenantKeys,
    private readonly storage: StorageOperations,
    private readonly store: LifecycleStore,
    private readonly shredder: CryptoShredder,
    private readonly outbox: LifecycleOutbox,
    private readonly config: BulkheadConfig,
    private readonly discovery: DiscoveryService,
    private readonly mover: TenantMover,
    private readonly former: FormerPlacements,
  ) {}

  private recordErasers?: TenantRecordsEraser[];

  /** Every lib's eraser of tenant records kept outside the placement (flag overrides, noisy-neighbour history...). */
  private erasers(): TenantRecordsEraser[] {
    this.recordErasers ??= this.discovery
      .getProviders({ metadataKey: TenantRecordsEraserProvider.KEY })
      .map((wrapper) => wrapper.instance as TenantRecordsEraser)
      .filter((eraser) => eraser && typeof eraser.erase === 'function')
      .sort((a, b) => (a.store < b.store ? -1 : 1));
    return this.recordErasers;
  }

  offboardingSteps(): SagaStep[] {
    return [
      {
        name: 'fence',
        run: async (context) => {
          const tenant = await this.tenant(context);
          if (tenant.status === 'active') {
            // Noted first: a run that dies after suspending finds, when repeated, that the suspension is its own to lift.
            await context.note({ suspendedHere: true });
            await this.admin.suspend(tenant.id).catch(async (error: unknown) => {
              // Suspended meanwhile by someone else (an operator): fenced, but not by this saga.
              if ((await this.tenant(context)).status !== 'suspended') throw error;
              await context.note({ suspendedHere: false });
            });
          } else if (tenant.status !== 'suspended') throw new PermanentStepError('tenant_state', `The tenant is ${tenant.status}.`);
          return { fencedAt: new Date().toISOString(), suspendedHere: context.details('fence').suspendedHere === true };
        },
        // Restore: the data was never touched, lifting the fence brings the tenant back whole. A
        // tenant an operator had suspended (abuse, an unpaid bill) stays suspended: only a
        // suspension this saga noted as its own is lifted (or, for a saga recorded before the note
        // existed, a fence it finished).
        compensate: async (context) => {
          const tenant = await this.tenants.findById(context.saga.tenantId);
          const fence = context.details('fence');
          const ours = fence.suspendedHere === true || (fence.suspendedHere === undefined && fence.fencedAt !== undefined);
          if (tenant?.status === 'suspended' && ours) await this.admin.liftFence(tenant.id);
        },
      },
      {
        name: 'export',
        run: async (context) => {
          // What was admitted before the fence (a request past the tenant guard, its commit still
          // to come) lands before the export reads: otherwise an acknowledged write misses the
          // archive and the erasure still takes it.
          await this.settle(context);
          const tenant = await this.fenced(context);
          const archive = await this.data.export(tenant);
          const keys = await this.redis.keys(tenant.id);
          await this.store.query(
            `INSERT INTO lifecycle_archives (tenant, saga_id, manifest, content, sha256) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant, saga_id) DO UPDATE SET manifest = excluded.manifest, content = excluded.content, sha256 = excluded.sha256, created_at = now()`,
            [tenant.id, context.saga.id, { ...archive.manifest, redisKeys: keys.length }, archive.content, archive.sha256],
          );
          return { sha256: archive.sha256, bytes: archive.content.length, tables: archive.manifest.tables };
        },
      },
      {
        name: 'grace',
        run: async (context) => {
          const fenced = Date.parse(String(context.details('fence').fencedAt));
          const days = typeof context.saga.request.graceDays === 'number' ? context.saga.request.graceDays : this.config.LIFECYCLE_GRACE_DAYS;
          const due = new Date(fenced + days * 86_400_000);
          if (Date.now() < due.getTime()) throw new StepNotDueError(due);
          // Even with no grace: what was admitted before the fence lands before the erasure counts.
          await this.settle(context);
          // A move of the tenant not finished keeps a second copy of its data (a switched move's
          // source until its grace period ends, a failed or aborting one's target): erasing only
          // where the registry places it would certify an erasure with that copy still there.
          // Before its switch the move is undone first (the tenant is leaving: nobody wants it
          // moved); past it, its own drop finishes and the erasure takes the target it lives on.
          const phase = await this.settleMove(context);
          if (phase !== undefined) {
            this.logger.warn({ tenantId: context.saga.tenantId, sagaId: context.saga.id, movePhase: phase }, 'offboarding waits for a move of the tenant to finish before erasing');
            await context.note({ waitingForMove: phase });
            throw new StepNotDueError(new Date(Date.now() + MOVE_WAIT_MS));
          }
          await this.fenced(context);
          return { endedAt: new Date().toISOString() };
        },
      },
      {
        name: 'erase',
        irreversible: 'erasure',
        run: (context) => this.erase(context),
      },
      {
        name: 'verify',
        run: (context) => this.verify(context),
      },
      {
        name: 'certify',
        run: async (context) => {
          const certificate = this.certificate(context);
          await this.store.query('INSERT INTO lifecycle_certificates (tenant, saga_id, certificate) VALUES ($1, $2, $3) ON CONFLICT (tenant) DO NOTHING', [
            context.saga.tenantId,
            context.saga.id,
            certificate,
          ]);
          return { certified: true };
        },
      },
      {
        name: 'announce',
        run: async (context) => ({ eventId: await this.outbox.record(context.saga.id, 'tenant.erased', context.saga.tenantId, { sagaId: context.saga.id }) }),
      },
    ];
  }

  restoreSteps(): SagaStep[] {
    return [];
  }

  /**
   * Counts first (this tenant's and every other tenant's rows, its Redis keys), then: the audit key
   * shredded through the audit trail, the rows (pool) or the schema or database dropped, the
   * registry record retired (every instance drops its cached copy), every lib's records kept
   * outside the placement (TenantRecordsEraser), its Redis keys, host names and the archive's
   * content removed. Each part is idempotent.
   */
  private async erase(context: StepContext): Promise<Record<string, unknown>> {
    // Not `fenced`: a failure here would count as erasure begun. Grace checked it just before.
    const tenant = await this.tenant(context);
    if (!context.details('erase').before) {
      const counts = await this.data.counts(tenant);
      const recordsBefore: Record<string, number> = {};
      for (const eraser of this.erasers()) recordsBefore[eraser.store] = await eraser.count(tenant.id);
      // Keys an eraser counts (the fair queue's, BullMQ's job hashes) are its store's, not this one's.
      const redisKeysBefore = (await this.redis.keys(tenant.id)).filter((key) => !this.erasers().some((eraser) => eraser.ownsKey?.(key))).length;
      const formerBefore = await this.former.count(tenant);
      await context.note({ before: counts.tables, redisKeysBefore, recordsBefore, formerBefore, startedAt: new Date().toISOString() });
    }
    // Once per erasure: a run repeated while a lock holds the schema back would otherwise shred
    // again, and each shred writes its audit entries.
    if (tenant.status !== 'deleted' && !context.details('erase').shredded) {
      // Crypto-shredding through the audit trail's own path: whatever copy of an entry survives elsewhere stays unreadable.
      await this.shredder.shred(tenant, { subject: 'lifecycle-erasure' }).catch((error: unknown) => {
        // A placement already gone has no key left to shred.
        if (tenant.isolation === 'pool') throw error;
      });
      await context.note({ shredded: true });
      await context.checkpoint('shredded');
    }
    let rows: Record<string, number> = {};
    try {
      if (tenant.isolation === 'pool') rows = await this.data.erasePoolRows(tenant);
      else if (tenant.isolation === 'schema') await this.storage.dropSchema(tenant.cluster, tenant.schemaName as string, tenant.id, SCHEMA_LOCK_WAIT_MS);
      else await this.storage.dropDatabase(tenant.cluster, tenant.databaseName as string, SILO_DROP_WAIT_MS);
      await context.checkpoint('storage erased');
      // What the tenant's moves left where it no longer lives (normally nothing: an aborted move
      // drops its target, a finished one its source) goes with the rest.
      await this.former.erase(tenant, { schemaLockWaitMs: SCHEMA_LOCK_WAIT_MS, siloDropWaitMs: SILO_DROP_WAIT_MS });
      await context.checkpoint('former placements erased');
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (isLockTimeout(error)) {
        this.logger.warn({ tenantId: tenant.id, sagaId: context.saga.id }, 'erasure waits for a lock on a schema of the tenant (a unit of work still reading it)');
        await context.note({ waitingForLock: new Date().toISOString() });
      } else if (code === OBJECT_IN_USE) {
        this.logger.warn({ tenantId: tenant.id, sagaId: context.saga.id }, 'erasure waits for the connections to a database of the tenant to close');
        await context.note({ waitingForConnections: new Date().toISOString() });
      } else {
        throw error;
      }
      throw new StepNotDueError(new Date(Date.now() + STORAGE_BUSY_RETRY_MS));
    }
    // Retired before the records kept elsewhere are erased: from here every route refuses the
    // tenant (a flag override, a jobs policy written meanwhile would outlive the erasers and fail
    // the verification). Not earlier: a run repeated after the retirement skips the shredding.
    await this.admin.retire(tenant.id);
    await context.checkpoint('retired');
    // The erasers first: some remove state that a key deleted by name would leave inconsistent
    // (the fair queue gives the tenant's in-flight slots back to the shared window).
    const records: Record<string, number> = {};
    for (const eraser of this.erasers()) records[eraser.store] = await eraser.erase(tenant.id);
    const redisKeys = await this.redis.erase(tenant.id);
    await this.store.query('DELETE FROM lifecycle_hosts WHERE tenant = $1', [tenant.id]);
    await this.store.query("UPDATE lifecycle_archives SET content = ''::bytea, erased_at = coalesce(erased_at, now()) WHERE tenant = $1", [tenant.id]);
    return { rowsDeleted: rows, redisKeysDeleted: redisKeys, recordsDeleted: records, erasedAt: new Date().toISOString() };
  }

  /** Every store enumerated again: nothing of the tenant left, every other tenant's counts as before. */
  private async verify(context: StepContext): Promise<Record<string, unknown>> {
    const tenant = await this.tenant(context);
    const before = (context.details('erase').before ?? {}) as Record<string, { tenant: number; others: number }>;
    // A unit of work of the tenant's that committed into the pool after its rows were erased but
    // before its retirement (from which its commits are refused): erased again, idempotently, and
    // noted, so the saga converges instead of failing verification on every retry.
    const latePoolRows = tenant.isolation === 'pool' ? Object.values(await this.data.erasePoolRows(tenant)).reduce((sum, n) => sum + n, 0) : 0;
    const after = await this.data.counts(tenant);
    const stores: Array<{ store: string; tenantBefore: number; tenantAfter: number; othersBefore: number | null; othersAfter: number | null }> = [];
    for (const table of Object.keys(before).sort()) {
      stores.push({
        store: `postgres:${tenant.isolation === 'pool' ? 'public' : tenant.isolation === 'schema' ? 'schema' : 'silo'}.${table}`,
        tenantBefore: before[table].tenant,
        tenantAfter: after.tables[table]?.tenant ?? 0,
        othersBefore: tenant.isolation === 'pool' ? before[table].others : null,
        othersAfter: tenant.isolation === 'pool' ? (after.tables[table]?.others ?? 0) : null,
      });
    }
    // What was written back after the erasers ran (a flag override or jobs policy whose check
    // predates the retirement, a noisy-neighbour record of the minute before): erased again, idempotently, and
    // noted, so the saga converges instead of failing verification on every retry.
    const late: Record<string, number> = {};
    for (const eraser of this.erasers()) late[eraser.store] = await eraser.erase(tenant.id);
    late['redis:keys'] = await this.redis.erase(tenant.id);
    late['postgres:pool-rows'] = latePoolRows;
    const lateErased = Object.fromEntries(Object.entries(late).filter(([, n]) => n > 0));
    if (Object.keys(lateErased).length > 0) await context.note({ lateErased });
    const redisAfter = (await this.redis.keys(tenant.id)).length;
    stores.push({ store: 'redis:keys', tenantBefore: Number(context.details('erase').redisKeysBefore ?? 0), tenantAfter: redisAfter, othersBefore: null, othersAfter: null });
    const recordsBefore = (context.details('erase').recordsBefore ?? {}) as Record<string, number>;
    for (const eraser of this.erasers()) {
      stores.push({ store: eraser.store, tenantBefore: recordsBefore[eraser.store] ?? 0, tenantAfter: await eraser.count(tenant.id), othersBefore: null, othersAfter: null });
    }
    const formerBefore = (context.details('erase').formerBefore ?? {}) as Record<string, number>;
    for (const [store, left] of Object.entries(await this.former.count(tenant))) {
      stores.push({ store, tenantBefore: formerBefore[store] ?? 0, tenantAfter: left, othersBefore: null, othersAfter: null });
    }
    const hosts = await this.store.query<{ n: string }>('SELECT count(*) AS n FROM lifecycle_hosts WHERE tenant = $1', [tenant.id]);
    const archives = await this.store.query<{ n: string }>('SELECT count(*) AS n FROM lifecycle_archives WHERE tenant = $1 AND octet_length(content) > 0', [tenant.id]);
    stores.push({ store: 'control:hosts', tenantBefore: 0, tenantAfter: Number(hosts[0].n), othersBefore: null, othersAfter: null });
    stores.push({ store: 'control:archive-content', tenantBefore: 1, tenantAfter: Number(archives[0].n), othersBefore: null, othersAfter: null });
    const leftovers = stores.filter((s) => s.tenantAfter !== 0);
    const disturbed = stores.filter((s) => s.othersBefore !== s.othersAfter);
    const storage = tenant.isolation === 'pool' ? 'shared pool (rows deleted)' : after.storage ? 'still present' : 'dropped';
    if (leftovers.length || (tenant.isolation !== 'pool' && after.storage)) {
      throw new Error(`erasure incomplete: ${leftovers.map((s) => `${s.store}=${s.tenantAfter}`).join(', ') || `storage ${storage}`}`);
    }
    // The pool's DELETEs ran as the owner with RLS bound to this tenant, so they could remove no other
    // tenant's row (cascades included). Other tenants' counts are reported: in a busy pool they move
    // with those tenants' own writes.
    return {
      stores,
      storage,
      otherTenantsUnchanged: disturbed.length === 0,
      ...(disturbed.length ? { otherTenantsWriting: disturbed.map((s) => s.store) } : {}),
      verifiedAt: new Date().toISOString(),
      registry: (await this.tenants.findById(tenant.id))?.status,
    };
  }

  private certificate(context: StepContext): Record<string, unknown> {
    const verify = context.details('verify');
    const exported = context.details('export');
    return {
      format: 'bulkhead-erasure-certificate/1',
      tenantId: context.saga.tenantId,
      sagaId: context.saga.id,
      model: (context.saga.request.model as string | undefined) ?? null,
      fencedAt: context.details('fence').fencedAt,
      erasureStartedAt: context.details('erase').startedAt,
      erasedAt: context.details('erase').erasedAt,
      verifiedAt: verify.verifiedAt,
      storage: verify.storage,
      auditKey: 'shredded',
      archive: { sha256: exported.sha256, bytes: exported.bytes, tables: exported.tables },
      stores: verify.stores,
      otherTenantsUnchanged: verify.otherTenantsUnchanged,
      registry: verify.registry,
    };
  }

  /**
   * Undoes the tenant's unfinished move before its switch (see `TenantMover.abandon`), noting the
   * move it aborted; answers the phase of a move still to finish, if any. A failure to settle it
   * (a cluster unreachable, the lease lost) must not count as a failed step, whose compensation
   * would lift the fence: the step notes it, waits and looks again.
   */
  private async settleMove(context: StepContext): Promise<string | undefined> {
    const tenantId = context.saga.tenantId;
    try {
      const settlement = await this.mover.abandon(tenantId, `the tenant is being offboarded (saga ${context.saga.id}): undone before its erasure`);
      if (settlement.settled) {
        if (settlement.aborted) {
          this.logger.log({ tenantId, sagaId: context.saga.id, moveId: settlement.aborted }, 'offboarding aborted the tenant\'s unfinished move before erasing');
          await context.note({ abortedMove: settlement.aborted, waitingForMove: null, moveError: null });
        }
        return undefined;
      }
      await context.note({ moveError: settlement.error });
      return settlement.phase;
    } catch (error) {
      this.logger.warn({ err: error, tenantId }, 'offboarding could not settle the tenant\'s move; it looks again before erasing');
      await context.note({ moveError: (error as Error).message });
      return 'unknown';
    }
  }

  /**
   * Waits out LIFECYCLE_FENCE_SETTLE_MS from the fence, so requests admitted before it commit
   * first: best effort, a bound on in-flight work rather than a barrier (see the lib's README).
   */
  private async settle(context: StepContext): Promise<void> {
    const fenced = Date.parse(String(context.details('fence').fencedAt));
    const settled = fenced + this.config.LIFECYCLE_FENCE_SETTLE_MS - Date.now();
    if (settled > 0) await new Promise((resolve) => setTimeout(resolve, settled));
  }

  private async tenant(context: StepContext): Promise<TenantRecord> {
    const tenant = await this.tenants.findById(context.saga.tenantId);
    if (!tenant) throw new PermanentStepError('tenant_not_found', 'The tenant is not in the registry.');
    return tenant;
  }

  /**
   * The tenant, still behind the fence: a reactivation that raced the veto (`OffboardingReactivationVeto`)
   * stops the saga before anything more is exported or erased; it fails, its compensation finds
   * the fence already lifted, and the operator offboards again.
   */
  private async fenced(context: StepContext): Promise<TenantRecord> {
    const tenant = await this.tenant(context);
    if (tenant.status === 'active') throw new PermanentStepError('tenant_reactivated', 'The tenant was reactivated during its offboarding; offboard it again.');
    return tenant;
  }
}

import { BulkheadConfig, IsolationModel } from '@bulkhead/config';
import { ClusterRegistry, TenantAdmin, TenantChangeFeed, TenantProvisioner } from '@bulkhead/control-plane';
import { Injectable, Logger } from '@nestjs/common';
import { backlog, fenceState, installCaptureSchema, installTriggers, lowerFence, markMoved, raiseFence, removeCapture } from './change-capture';
import { MoveBusyProblem, MoveInProgressProblem, MoveLeaseLostError, MoveNotAbortableProblem, MoveNotFoundProblem, MoveTargetInvalidProblem, ParityMismatchError } from './move.errors';
import { ABORTABLE, FINISHED, MovePhase, MoveProgress, MoveRecord } from './move.record';
import { MoveLease, MoveStore } from './move-store';
import { OwnerSession } from './owner-session';
import { describe, Endpoint, endpointOf, samePlacement, targetSpec } from './placement-spec';
import { dropLockBackoffMs, dropTenantStorage, LockWait } from './placement-storage';
import { CatchUpPace } from './catch-up-pace';
import { MoverPace } from './mover-pace';
import { applyChanges, clearTenantRows, clearTenantRowsPaced, copySnapshot, parityMismatches, parityOf, rowHashes } from './row-sync';
import { assertSameTables, TenantTable, tenantTables } from './tenant-tables';

class AbortRequested extends Error {}

/**
 * Where a tenant's move stands for an erasure: `settled` when no move keeps a copy of the tenant
 * beside its placement any more (`aborted` names the move undone for it), else the phase of the
 * move still to finish (and its error, when its mover stopped on one).
 */
export type MoveSettlement = { settled: true; aborted?: string } | { settled: false; moveId: string; phase: MovePhase; error: string | null };

/** Changes per catch-up round at least, whatever MOVES_BATCH_ROWS says: a round must outpace the tenant's writes. */
const MIN_CATCH_UP_ROUND = 1000;

/** Both sides of a move, open for one phase. */
interface Sides {
  source: OwnerSession;
  target: OwnerSession;
  sourceEnd: Endpoint;
  targetEnd: Endpoint;
  tables: TenantTable[];
  close(): Promise<void>;
}

/**
 * Moves a live tenant between placements (pool, schema, silo; cluster to cluster), phase by phase,
 * each phase recorded in `tenant_moves` before the next begins and each one safe to run again:
 * a mover killed at any point is resumed by running the move again (`run`), from its recorded
 * phase. See the lib's README for the mechanism and why it is safe.
 */
@Injectable()
export class TenantMover {
  private readonly logger = new Logger('TenantMover');

  constructor(
    private readonly store: MoveStore,
    private readonly admin: TenantAdmin,
    private readonly clusters: ClusterRegistry,
    private readonly provisioner: TenantProvisioner,
    private readonly changes: TenantChangeFeed,
    private readonly config: BulkheadConfig,
  ) {}

  /**
   * Records a move of the tenant to `to` on `cluster` (default: where it is now), or answers the
   * unfinished move it already has to that same placement (so asking again resumes it; a failed one
   * starts again from the copy).
   */
  async request(tenantId: string, to: IsolationModel, cluster?: string): Promise<MoveRecord> {
    const tenant = await this.admin.get(tenantId);
    const clusterKey = cluster ?? tenant.cluster;
    const known = this.clusters.all().find((c) => c.key === clusterKey);
    if (!known) throw new MoveTargetInvalidProblem(`No cluster ${clusterKey} is configured.`);
    const target = targetSpec(tenant.id, to, clusterKey, this.clusters);
    const unfinished = await this.store.unfinished(tenant.id);
    if (unfinished) {
      if (!samePlacement(unfinished.target, target)) {
        throw new MoveInProgressProblem(`The tenant is already moving to ${describe(unfinished.target)} (${unfinished.phase}); abort it first.`);
      }
      // Asking again resumes it here: marked as progressing (and cleared of its error), so a
      // worker's resumer does not reach for it meanwhile.
      await this.store.update(unfinished.id, unfinished.phase === 'failed' ? { phase: 'copying', error: null } : { error: null });
      return (await this.store.get(unfinished.id))!;
    }
    if (tenant.status !== 'active') throw new MoveTargetInvalidProblem(`The tenant is ${tenant.status}; only an active tenant can be moved.`);
    const source = { isolation: tenant.isolation, cluster: tenant.cluster, schemaName: tenant.schemaName, databaseName: tenant.databaseName };
    if (samePlacement(source, target)) throw new MoveTargetInvalidProblem(`The tenant already lives on ${describe(target)}.`);
    const created = await this.store.insert({ tenantId: tenant.id, source, target, sourceVersion: tenant.placementVersion });
    if (!created) throw new MoveInProgressProblem('Another move of this tenant was just requested.');
    this.logger.log({ tenantId: tenant.id, moveId: created.id, from: describe(source), to: describe(target) }, 'move requested');
    return created;
  }

  async current(tenantId: string): Promise<MoveRecord> {
    const tenant = await this.admin.get(tenantId);
    const move = await this.store.latest(tenant.id);
    if (!move) throw new MoveNotFoundProblem();
    return move;
  }

  /**
   * Asks the tenant's unfinished move to stop before its switch. When no process drives it, the
   * abort runs here and now; otherwise the driving mover aborts at its next step.
   */
  async abort(tenantId: string): Promise<MoveRecord> {
    const tenant = await this.admin.get(tenantId);
    const move = await this.store.unfinished(tenant.id);
    if (!move) throw new MoveNotFoundProblem();
    if (!ABORTABLE.has(move.phase) || !(await this.store.requestAbort(move.id))) throw new MoveNotAbortableProblem((await this.store.get(move.id))?.phase ?? move.phase);
    try {
      return await this.run(move.id);
    } catch (error) {
      if (error instanceof MoveBusyProblem) return (await this.store.get(move.id))!;
      throw error;
    }
  }

  /**
   * For an offboarding about to erase the tenant: undoes its unfinished move before the switch, so
   * that no copy outlives the erasure. A move nobody drives (failed, stopped on an error, its mover
   * dead) is aborted here and now: capture removed, the target (never the tenant's live placement
   * before the switch) dropped. One a live mover drives aborts at that mover's next step. A move
   * past its switch (or whose source was already marked moved, which only goes forward) is left to
   * finish its drop: the tenant then lives on its target, which the erasure takes.
   */
  async abandon(tenantId: string, reason: string): Promise<MoveSettlement> {
    const move = await this.store.unfinished(tenantId);
    if (!move) return { settled: true };
    if (ABORTABLE.has(move.phase) && (move.abortRequested || (await this.store.requestAbort(move.id, reason)))) {
      try {
        const ended = await this.run(move.id, undefined, (now) => !ABORTABLE.has(now.phase));
        if (ended.phase === 'aborted') return { settled: true, aborted: move.id };
        return { settled: false, moveId: move.id, phase: ended.phase, error: ended.error };
      } catch (error) {
        if (!(error instanceof MoveBusyProblem)) throw error;
      }
    }
    const now = await this.store.get(move.id);
    if (!now || FINISHED.has(now.phase)) return { settled: true };
    return { settled: false, moveId: now.id, phase: now.phase, error: now.error };
  }

  /**
   * Drives the move to its end, or, while another process drives it (a worker resuming it, the
   * operator route), follows it: its phase and progress once a second, taking it over if that
   * process stops with the move unfinished. For an operator who asked for the move and waits.
   */
  async runOrFollow(moveId: string, onProgress?: (move: MoveRecord) => void): Promise<MoveRecord> {
    for (;;) {
      try {
        return await this.run(moveId, onProgress);
      } catch (error) {
        // Busy: another process drives it. Lost: this run stopped, and whoever holds it now drives it.
        if (!(error instanceof MoveBusyProblem) && !(error instanceof MoveLeaseLostError)) throw error;
      }
      const move = await this.store.get(moveId);
      if (!move) throw new MoveNotFoundProblem();
      onProgress?.(move);
      if (FINISHED.has(move.phase) || move.phase === 'failed') return move;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  /** Drives a move another process left (see MovesResumer) to its end; null when a live mover holds it. */
  async resume(moveId: string): Promise<MoveRecord | null> {
    try {
      return await this.run(moveId);
    } catch (error) {
      if (error instanceof MoveBusyProblem) return null;
      throw error;
    }
  }

  /** Drives a move in the background (the API answers 202 and the operator follows `GET .../move`). */
  runInBackground(moveId: string): void {
    this.run(moveId).catch((error) => {
      if (!(error instanceof MoveBusyProblem)) this.logger.error({ err: error, moveId }, 'move stopped; run it again to resume');
    });
  }

  /** Drives the move from its recorded phase to done (or aborted), under its lease; or only until `stopAt` says so. */
  async run(moveId: string, onProgress?: (move: MoveRecord) => void, stopAt?: (move: MoveRecord) => boolean): Promise<MoveRecord> {
    const lease = await this.store.lease(moveId);
    if (!lease) throw new MoveBusyProblem();
    try {
      for (;;) {
        const move = await this.store.get(moveId);
        if (!move) throw new MoveNotFoundProblem();
        onProgress?.(move);
        if (move.abortRequested && ABORTABLE.has(move.phase) && move.phase !== 'aborting') {
          await this.store.update(move.id, { phase: 'aborting' });
          continue;
        }
        if (FINISHED.has(move.phase) || move.phase === 'failed' || stopAt?.(move)) return move;
        // Outside the step's error handling: a lost lease stops this run without marking the move.
        await lease.check();
        try {
          await this.step(move, lease);
        } catch (error) {
          if (error instanceof AbortRequested) continue;
          // Another process may drive the move now (the lease is lost, or the error came from
          // losing it, as a control database restart does): leave its record to it.
          if (error instanceof MoveLeaseLostError) throw error;
          await lease.check();
          if (error instanceof ParityMismatchError) {
            await this.store.update(move.id, { phase: 'failed', error: error.message });
            continue;
          }
          await this.store.update(move.id, { error: (error as Error).message });
          throw error;
        }
      }
    } finally {
      await lease.release();
    }
  }

  private async step(move: MoveRecord, lease: MoveLease): Promise<void> {
    switch (move.phase) {
      case 'preparing':
        return this.prepare(move);
      case 'copying':
        return this.copy(move, lease);
      case 'catching_up':
        return this.catchUp(move, lease);
      case 'switching':
        return this.switch(move, lease);
      case 'switched':
        return this.graceThenDrop(move, lease);
      case 'dropping':
        return this.dropSource(move, lease);
      case 'aborting':
        return this.abortNow(move, lease);
      default:
        throw new Error(`no step for phase ${move.phase}`);
    }
  }

  private async advance(move: MoveRecord, phase: MovePhase, progress: MoveProgress = move.progress): Promise<void> {
    await this.store.update(move.id, { phase, progress, error: null });
    this.logger.log({ tenantId: move.tenantId, moveId: move.id, phase }, 'move phase');
  }

  private async checkAbort(move: MoveRecord): Promise<void> {
    const now = await this.store.get(move.id);
    if (now?.abortRequested) throw new AbortRequested();
    // A tenant fenced meanwhile (offboarding suspends it first, then erases its placement) must not
    // keep a copy elsewhere nor switch: the move undoes itself as an operator's abort would.
    const tenant = await this.admin.get(move.tenantId);
    if (tenant.status !== 'active') {
      // In the progress, not the error: an error is cleared by the next step that succeeds.
      const abortReason = `the tenant became ${tenant.status} during the move: undone, the source untouched`;
      await this.store.update(move.id, { abortRequested: true, progress: { ...(now?.progress ?? move.progress), abortReason } });
      throw new AbortRequested();
    }
  }

  /** The target's storage (provisioned, migrated), then capture on the source. */
  private async prepare(move: MoveRecord): Promise<void> {
    const outcome = await this.provisioner.provision({ id: move.tenantId, ...move.target });
    const sourceEnd = endpointOf(move.source, this.clusters);
    const source = await OwnerSession.open(sourceEnd.ownerUrl, move.tenantId);
    try {
      await installCaptureSchema(source);
      const tables = await tenantTables(source, sourceEnd.schema);
      await installTriggers(source, sourceEnd.schema, tables, move.id);
      await this.advance(move, 'copying', { ...move.progress, tables: tables.length, dataVersion: outcome?.version ?? null });
    } finally {
      await source.close();
    }
  }

  private async copy(move: MoveRecord, lease: MoveLease): Promise<void> {
    const sides = await this.open(move);
    try {
      const progress: MoveProgress = { ...move.progress, copiedRows: 0, copyStartedAt: new Date().toISOString() };
      // A copy interrupted half way starts again from nothing: the capture kept logging meanwhile.
      await clearTenantRows(sides.target, sides.targetEnd.schema, sides.tables);
      const pace = new MoverPace(this.config.MOVES_DUTY_CYCLE, () => lease.check());
      await copySnapshot(sides.source, sides.sourceEnd.schema, sides.target, sides.targetEnd.schema, sides.tables, this.config.MOVES_BATCH_ROWS, async (_table, rows) => {
        progress.copiedRows! += rows;
        await this.store.update(move.id, { progress });
        await this.checkAbort(move);
        await pace.rest();
      });
      await this.advance(move, 'catching_up', progress);
    } finally {
      await sides.close();
    }
  }

  /** Changes per catch-up round. */
  private get catchUpRound(): number {
    return Math.max(this.config.MOVES_BATCH_ROWS, MIN_CATCH_UP_ROUND);
  }

  private async catchUp(move: MoveRecord, lease: MoveLease): Promise<void> {
    const sides = await this.open(move);
    try {
      const progress: MoveProgress = { ...move.progress };
      const pace = new CatchUpPace(new MoverPace(this.config.MOVES_DUTY_CYCLE), this.config.MOVES_CATCH_UP_MAX_MS);
      for (;;) {
        await this.checkAbort(move);
        await lease.check();
        const applied = await applyChanges(sides.source, sides.sourceEnd.schema, sides.target, sides.targetEnd.schema, sides.tables, this.catchUpRound);
        const left = await backlog(sides.source);
        progress.appliedChanges = (progress.appliedChanges ?? 0) + applied;
        progress.catchUpRounds = (progress.catchUpRounds ?? 0) + 1;
        progress.backlog = left;
        await this.store.update(move.id, { progress });
        const step = pace.next(left);
        if (step === 'fence') {
          if (pace.overran && left > 0) {
            progress.catchUpOverran = true;
            await this.store.update(move.id, { progress });
            this.logger.warn({ tenantId: move.tenantId, moveId: move.id, backlog: left }, 'catch-up did not converge in MOVES_CATCH_UP_MAX_MS: fencing with the backlog left');
          }
          break;
        }
        await pace.take(step);
      }
      await this.advance(move, 'switching', progress);
    } finally {
      await sides.close();
    }
  }

  /**
   * Fence, final catch-up, parity, switch. The source is marked moved before the registry
   * switches: a crash between them leaves the tenant's writes waiting (refused by the source,
   * retried by the API against an unchanged registry) until the mover resumes and switches; it
   * never leaves a write on a placement the tenant no longer lives on.
   */
  private async switch(move: MoveRecord, lease: MoveLease): Promise<void> {
    const sides = await this.open(move);
    try {
      const progress: MoveProgress = { ...move.progress };
      if ((await fenceState(sides.source)) !== 'moved') {
        await this.checkAbort(move);
        const hashes = await rowHashes(sides.source, sides.sourceEnd.schema, sides.tables);
        const raisedAt = Date.now();
        if (!(await raiseFence(sides.source, this.config.MOVES_FENCE_WAIT_MS))) {
          // A long transaction of the tenant's is still writing: catch up more, try again.
          progress.fenceRetries = (progress.fenceRetries ?? 0) + 1;
          await this.advance(move, 'catching_up', progress);
          return;
        }
        try {
          let applied = 0;
          for (;;) {
            const round = await applyChanges(sides.source, sides.sourceEnd.schema, sides.target, sides.targetEnd.schema, sides.tables, this.catchUpRound);
            if (round === 0) break;
            applied += round;
          }
          const caughtUpAt = Date.now();
          // One side after the other: both at once took both cores of a small server from other
          // tenants' queries for the whole check (measured at half the issue's load: their reads
          // waited up to 220 ms during the fence, one side after the other up to 116 ms, for a
          // fence 10-25% longer).
          const sourceParity = await parityOf(sides.source, sides.sourceEnd.schema, sides.tables, hashes);
          const targetParity = await parityOf(sides.target, sides.targetEnd.schema, sides.tables, hashes);
          progress.fenceChanges = applied;
          progress.fenceCatchUpMs = caughtUpAt - raisedAt;
          progress.fenceParityMs = Date.now() - caughtUpAt;
          const mismatches = parityMismatches(sourceParity, targetParity);
          if (mismatches.length) throw new ParityMismatchError(mismatches);
          progress.parity = sourceParity;
          progress.backlog = 0;
          // Last chance to abort with the source untouched.
          await this.checkAbort(move);
          // The point of no return: only while this process still holds the move.
          await lease.check();
          await markMoved(sides.source, move.id);
          await this.registrySwitch(move, progress, raisedAt);
        } finally {
          await lowerFence(sides.source).catch(() => undefined);
        }
        return;
      }
      // Resumed after the source was marked moved: only the registry's switch is left.
      await this.registrySwitch(move, progress, null);
    } finally {
      await sides.close();
    }
  }

  private async registrySwitch(move: MoveRecord, progress: MoveProgress, raisedAt: number | null): Promise<void> {
    if (raisedAt !== null) progress.fenceMs = Date.now() - raisedAt;
    const region = this.clusters.get(move.target.cluster).region;
    const { externalRef } = await this.store.switchPlacement(move, region, progress);
    await this.changes.publish({ id: move.tenantId, externalRef });
    this.logger.log({ tenantId: move.tenantId, moveId: move.id, fenceMs: progress.fenceMs }, 'move switched');
  }

  /** The source stays, read-only, for MOVES_GRACE_MS: units of work that started there finish there. */
  private async graceThenDrop(move: MoveRecord, lease: MoveLease): Promise<void> {
    if (move.target.isolation === 'pool') {
      // Back in a pool it once left. Its units of work there carry a newer placement version than
      // the one its departure refuses, so the record is only forgotten, and only now: a move
      // aborted before its switch leaves the pool still remembering that the tenant left.
      const targetEnd = endpointOf(move.target, this.clusters);
      await this.withSession(targetEnd, move.tenantId, (target) => target.query('DELETE FROM public.bulkhead_departures WHERE tenant = $1', [move.tenantId]));
    }
    const until = (move.switchedAt?.getTime() ?? Date.now()) + this.config.MOVES_GRACE_MS;
    // The longest wait of a move, with no progress recorded: the lease is checked every second, so
    // a mover that lost it stops before a resumer could take the move over (MOVES_RESUME_AFTER_MS).
    while (Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, until - Date.now())));
      await lease.check();
    }
    await this.advance(move, 'dropping');
  }

  private async dropSource(move: MoveRecord, lease: MoveLease): Promise<void> {
    const sourceEnd = endpointOf(move.source, this.clusters);
    if (move.source.isolation === 'pool') {
      // The shared tables stay: remember the tenant left (late writes are refused at their COMMIT,
      // see bulkhead_departures), take its rows out, then the triggers and the fence.
      await this.withSession(sourceEnd, move.tenantId, (source) =>
        source.query(
          `INSERT INTO public.bulkhead_departures (tenant, placement_version) VALUES ($1, $2)
           ON CONFLICT (tenant) DO UPDATE SET placement_version = GREATEST(bulkhead_departures.placement_version, EXCLUDED.placement_version)`,
          [move.tenantId, move.sourceVersion + 1],
        ),
      );
      // Out of the shared tables a batch at a time, paced; what is left (nothing) goes the usual way.
      await this.withSession(sourceEnd, move.tenantId, async (source) =>
        clearTenantRowsPaced(source, sourceEnd.schema, await tenantTables(source, sourceEnd.schema), this.config.MOVES_BATCH_ROWS, new MoverPace(this.config.MOVES_DUTY_CYCLE, () => lease.check())),
      );
      await dropTenantStorage(move.source, move.tenantId, this.clusters, this.lockWait(move, lease));
      await this.withSession(sourceEnd, move.tenantId, async (source) => removeCapture(source, sourceEnd.schema, await tenantTables(source, sourceEnd.schema)));
    } else {
      // The fence (state moved) goes last: while the drop rests between lock attempts, a late unit
      // of work writing to the old schema is still refused (BHM01), never committed and then dropped.
      await dropTenantStorage(move.source, move.tenantId, this.clusters, this.lockWait(move, lease));
      if (move.source.isolation === 'schema') await this.withSession(sourceEnd, move.tenantId, (source) => removeCapture(source, sourceEnd.schema, []));
    }
    await this.store.update(move.id, { phase: 'done', finished: true, error: null });
    this.logger.log({ tenantId: move.tenantId, moveId: move.id }, 'move done');
  }

  /** Before the switch only: capture off, the target's copy gone, the source as it was. */
  private async abortNow(move: MoveRecord, lease: MoveLease): Promise<void> {
    const sourceEnd = endpointOf(move.source, this.clusters);
    const state = await this.withSession(sourceEnd, move.tenantId, (source) => fenceState(source).catch(() => null));
    if (state === 'moved') {
      // A mover died between marking the source and switching the registry: the tenant's writes
      // are already refused there, so the only safe way on is forward.
      await this.store.update(move.id, { phase: 'switching', abortRequested: false, error: 'abort came too late: the source was already left; the move completes' });
      return;
    }
    await this.withSession(sourceEnd, move.tenantId, async (source) => removeCapture(source, sourceEnd.schema, await tenantTables(source, sourceEnd.schema)));
    await dropTenantStorage(move.target, move.tenantId, this.clusters, this.lockWait(move, lease));
    await this.store.update(move.id, { phase: 'aborted', finished: true, error: null });
    this.logger.log({ tenantId: move.tenantId, moveId: move.id }, 'move aborted');
  }

  /**
   * Between attempts at dropping a schema someone still holds a lock in (a unit of work that
   * outlived the grace period): said in the move's progress (which also keeps the resumer away),
   * a rest out of the lock queue, and the lease checked, so the drop waits as long as it takes
   * without stalling the tables' other users and stops if another process took the move.
   */
  private lockWait(move: MoveRecord, lease: MoveLease): LockWait {
    return async (attempt) => {
      await this.store.update(move.id, { progress: { ...move.progress, dropLockWaits: attempt } });
      if (attempt === 1 || attempt % 20 === 0) this.logger.warn({ tenantId: move.tenantId, moveId: move.id, attempt }, 'dropping a schema still in use: stepped back, trying again');
      await new Promise((resolve) => setTimeout(resolve, dropLockBackoffMs(attempt)));
      await lease.check();
    };
  }

  private async withSession<T>(endpoint: Endpoint, tenantId: string, work: (session: OwnerSession) => Promise<T>): Promise<T> {
    const session = await OwnerSession.open(endpoint.ownerUrl, tenantId);
    try {
      return await work(session);
    } finally {
      await session.close();
    }
  }

  private async open(move: MoveRecord): Promise<Sides> {
    const sourceEnd = endpointOf(move.source, this.clusters);
    const targetEnd = endpointOf(move.target, this.clusters);
    const source = await OwnerSession.open(sourceEnd.ownerUrl, move.tenantId);
    let target: OwnerSession | undefined;
    try {
      target = await OwnerSession.open(targetEnd.ownerUrl, move.tenantId);
      const tables = await tenantTables(source, sourceEnd.schema);
      assertSameTables(tables, await tenantTables(target, targetEnd.schema));
      const opened = target;
      return { source, target, sourceEnd, targetEnd, tables, close: async () => void (await Promise.all([source.close(), opened.close()])) };
    } catch (error) {
      await Promise.all([source.close(), target?.close()]);
      throw error;
    }
  }
}

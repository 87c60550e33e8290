import { PlacementSpec } from './placement-spec';
import { TableParity } from './row-sync';

export const MOVE_PHASES = ['preparing', 'copying', 'catching_up', 'switching', 'switched', 'dropping', 'done', 'aborting', 'aborted', 'failed'] as const;
export type MovePhase = (typeof MOVE_PHASES)[number];

/** Phases a move can be aborted in: the source is still the tenant's placement, untouched. */
export const ABORTABLE: ReadonlySet<MovePhase> = new Set(['preparing', 'copying', 'catching_up', 'switching', 'failed', 'aborting']);
export const FINISHED: ReadonlySet<MovePhase> = new Set(['done', 'aborted']);

export interface MoveProgress {
  tables?: number;
  copiedRows?: number;
  appliedChanges?: number;
  backlog?: number;
  catchUpRounds?: number;
  /** The catch-up ran out of MOVES_CATCH_UP_MAX_MS and fenced with a backlog left (the tenant wrote faster than it applied). */
  catchUpOverran?: boolean;
  /** Fence attempts that timed out waiting for the tenant's writes in flight (then caught up again). */
  fenceRetries?: number;
  /** How long the tenant's writes were held at the fence, from raising it to lowering it. */
  fenceMs?: number;
  /** Of which: the changes applied under the fence and how long that took, then the parity check. */
  fenceChanges?: number;
  fenceCatchUpMs?: number;
  fenceParityMs?: number;
  parity?: Record<string, TableParity>;
  dataVersion?: number | null;
  copyStartedAt?: string;
  /** Attempts at dropping a schema (the source's, or an aborted move's target) that met a lock held there and stepped back to try again. */
  dropLockWaits?: number;
  /** Why a move undid itself, when nobody asked it to (its tenant stopped being active). */
  abortReason?: string;
}

export interface MoveRecord {
  id: string;
  tenantId: string;
  phase: MovePhase;
  source: PlacementSpec;
  target: PlacementSpec;
  sourceVersion: number;
  abortRequested: boolean;
  error: string | null;
  progress: MoveProgress;
  createdAt: Date;
  updatedAt: Date;
  switchedAt: Date | null;
  finishedAt: Date | null;
}

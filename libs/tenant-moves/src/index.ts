export { TenantMovesModule } from './tenant-moves.module';
export { TenantMoverModule } from './tenant-mover.module';
export { TenantMover, type MoveSettlement } from './tenant-mover';
export { MovesResumer } from './moves.resumer';
export { MoveView, MoveTenantDto } from './move.dto';
export type { MoveRecord, MovePhase, MoveProgress } from './move.record';
export type { PlacementSpec } from './placement-spec';
export { describe as describePlacement, samePlacement } from './placement-spec';

import { Module } from '@nestjs/common';
import { MoveStore } from './move-store';
import { TenantMover } from './tenant-mover';

/**
 * The mover and its store, one instance per process whoever imports them: the apps (through
 * `TenantMovesModule.forRoot`) and libs that settle a tenant's move themselves (the lifecycle's
 * offboarding undoes an unfinished move before it erases).
 */
@Module({
  providers: [MoveStore, TenantMover],
  exports: [MoveStore, TenantMover],
})
export class TenantMoverModule {}

import { DynamicModule, Module } from '@nestjs/common';
import { MoveStore } from './move-store';
import { MovesAdminController } from './moves.admin.controller';
import { MovesResumer } from './moves.resumer';
import { TenantMover } from './tenant-mover';

/**
 * Tenant moves between placements: the mover, its store, on HTTP the operator routes, and with
 * `resume` (the worker) the rounds that resume moves whose mover died.
 */
@Module({})
export class TenantMovesModule {
  static forRoot(options: { http: boolean; resume?: boolean }): DynamicModule {
    return {
      module: TenantMovesModule,
      controllers: options.http ? [MovesAdminController] : [],
      providers: [MoveStore, TenantMover, ...(options.resume ? [MovesResumer] : [])],
      exports: [TenantMover, ...(options.resume ? [MovesResumer] : [])],
    };
  }
}

import { DynamicModule, Module } from '@nestjs/common';
import { MoveStore } from './move-store';
import { MovesAdminController } from './moves.admin.controller';
import { TenantMover } from './tenant-mover';

/** Tenant moves between placements: the mover, its store, and (on HTTP) the operator routes. */
@Module({})
export class TenantMovesModule {
  static forRoot(options: { http: boolean }): DynamicModule {
    return {
      module: TenantMovesModule,
      controllers: options.http ? [MovesAdminController] : [],
      providers: [MoveStore, TenantMover],
      exports: [TenantMover],
    };
  }
}

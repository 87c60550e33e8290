import { DynamicModule, Module } from '@nestjs/common';
import { MovesAdminController } from './moves.admin.controller';
import { MovesResumer } from './moves.resumer';
import { TenantMoverModule } from './tenant-mover.module';

/**
 * Tenant moves between placements: the mover, its store, on HTTP the operator routes, and with
 * `resume` (the worker) the rounds that resume moves whose mover died.
 */
@Module({})
export class TenantMovesModule {
  static forRoot(options: { http: boolean; resume?: boolean }): DynamicModule {
    return {
      module: TenantMovesModule,
      imports: [TenantMoverModule],
      controllers: options.http ? [MovesAdminController] : [],
      providers: options.resume ? [MovesResumer] : [],
      exports: [TenantMoverModule, ...(options.resume ? [MovesResumer] : [])],
    };
  }
}

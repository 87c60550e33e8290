import { Module } from '@nestjs/common';
import { ApiModule } from '../../apps/api/src/api.module';
import { UnscopedControlModule } from '../control/unscoped-control.module';

/** The production API plus the unscoped control route. */
@Module({ imports: [ApiModule, UnscopedControlModule] })
export class TierRouterBenchModule {}

import { Module } from '@nestjs/common';
import { apiImports } from '../../apps/api/src/api.module';

/** The production API with no stage after the tenant guard: the baseline the limiter is measured against. */
@Module({ imports: apiImports([]) })
export class UnlimitedApiBenchModule {}

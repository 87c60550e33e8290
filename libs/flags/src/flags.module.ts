import { Global, Module } from '@nestjs/common';
import { FlagCatalogue } from './flag-catalogue';
import { FlagGuard } from './flag.guard';
import { FlagOverridesEraser } from './flag-overrides.eraser';
import { FlagStore } from './flag.store';
import { FlagsAdminController } from './flags.admin.controller';
import { FlagsController } from './flags.controller';
import { TenantFlags } from './tenant-flags';

/** Global: any domain may inject `TenantFlags` or put `@RequireFlag` on a route. */
@Global()
@Module({
  controllers: [FlagsController, FlagsAdminController],
  providers: [FlagStore, FlagCatalogue, TenantFlags, FlagGuard, FlagOverridesEraser],
  exports: [TenantFlags, FlagGuard],
})
export class FlagsModule {}

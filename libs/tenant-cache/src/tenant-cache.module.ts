import { Global, Module } from '@nestjs/common';
import { CacheRedis } from './cache.redis';
import { TenantCache } from './tenant-cache';

/** The tenant-scoped cache; global, so domains inject `TenantCache` without importing this module. */
@Global()
@Module({
  providers: [CacheRedis, TenantCache],
  exports: [TenantCache],
})
export class TenantCacheModule {}

export { TenantCacheModule } from './tenant-cache.module';
export { TenantCache } from './tenant-cache';
export type { CacheEntryOptions } from './cache-options';

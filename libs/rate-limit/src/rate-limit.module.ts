import { Global, Module } from '@nestjs/common';
import { RateLimitRedis } from './rate-limit.redis';
import { RequestCountsController } from './request-counts.controller';
import { RequestCountsReader } from './request-counts.reader';
import { TenantRateLimiter } from './tenant-rate-limiter';
import { TenantRateLimitsController } from './tenant-rate-limits.controller';
import { TenantRateLimitsReader } from './tenant-rate-limits.reader';

/**
 * The limiter, its Redis connection and the operator's read of the request counts. Its guard is
 * not registered here: the access chain places it after the tenant guard (`RATE_LIMIT_ACCESS`,
 * given to `TenancyModule.forRoot({ access })`), since it needs the tenant that guard establishes.
 * Global, so the noisy-neighbour throttle can lower a flagged tenant's limits.
 */
@Global()
@Module({
  controllers: [RequestCountsController, TenantRateLimitsController],
  providers: [RateLimitRedis, TenantRateLimiter, RequestCountsReader, TenantRateLimitsReader],
  exports: [TenantRateLimiter, RequestCountsReader],
})
export class RateLimitModule {}

import { Global, Module } from '@nestjs/common';
import { HeaviestTenantsGauge } from './heaviest-tenants.gauge';
import { NoisyAdminController } from './noisy.admin.controller';
import { NoisyDetector } from './noisy-detector';
import { NoisyHistory } from './noisy-history';
import { NoisyHistoryEraser, NoisyUsageEraser } from './noisy-records.eraser';
import { NoisyRedis } from './noisy.redis';
import { NoisyThrottle } from './noisy-throttle';
import { UsageRecorder } from './usage.recorder';
import { UsageStore } from './usage.store';
import { NoisyKeys } from './usage.keys';

/**
 * Usage per tenant and minute in every app (the worker's job time: `UsageRecorder` is a `@JobRunObserverProvider()`), the
 * detector, the operator routes, the heaviest-tenants gauges (where metrics are served) and the
 * throttle (where rate limits are enforced). The worker adds `NoisyDetectorSchedule`.
 */
@Global()
@Module({
  controllers: [NoisyAdminController],
  providers: [NoisyRedis, NoisyKeys, UsageStore, UsageRecorder, NoisyHistory, NoisyThrottle, NoisyDetector, HeaviestTenantsGauge, NoisyHistoryEraser, NoisyUsageEraser],
  exports: [UsageRecorder, UsageStore, NoisyDetector],
})
export class NoisyNeighboursModule {}

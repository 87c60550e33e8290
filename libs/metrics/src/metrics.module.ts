import { Global, Module } from '@nestjs/common';
import { HttpMetrics } from './http-metrics';
import { JobMetrics } from './job-metrics';
import { MetricsController } from './metrics.controller';
import { MetricsRegistry } from './metrics.registry';
import { PoolMetrics } from './pool-metrics';

/** `/metrics` and the platform's metrics; global, so other libs (noisy neighbours) add theirs to the registry. */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsRegistry, HttpMetrics, PoolMetrics, JobMetrics],
  exports: [MetricsRegistry, HttpMetrics],
})
export class MetricsModule {}

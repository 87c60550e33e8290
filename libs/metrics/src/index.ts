export { MetricsModule } from './metrics.module';
export { MetricsRegistry } from './metrics.registry';
export { HttpMetrics } from './http-metrics';
export { registerHttpMetrics } from './register-http-metrics';

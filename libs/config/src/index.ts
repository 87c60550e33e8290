export { BulkheadConfig, ConfigError, loadConfig } from './bulkhead-config';
export { ConfigModule } from './config.module';
export { exitWithStartupError } from './startup-error';
export { TENANT_TIERS, ISOLATION_MODELS, type TenantTier, type IsolationModel } from './tenant-tiers';
export type { ClusterSettings } from './cluster-settings';
export { ROUTE_CLASSES, type RouteClass, type TierRateLimits } from './rate-limit-settings';

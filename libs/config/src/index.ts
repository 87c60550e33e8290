export { BulkheadConfig, ConfigError, loadConfig } from './bulkhead-config';
export { ConfigModule } from './config.module';
export { exitWithStartupError } from './startup-error';

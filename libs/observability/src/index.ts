export { LoggingModule } from './logging.module';
export { AppLogger } from './app.logger';
export { registerAccessLog } from './access-log';
export { HealthModule } from './health.module';
export { REQUEST_ID_HEADER, requestIdFor } from './request-id';

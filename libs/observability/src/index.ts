export { LoggingModule } from './logging.module';
export { HealthModule } from './health.module';
export { REQUEST_ID_HEADER, requestIdFor } from './request-id';

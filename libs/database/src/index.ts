export { bootstrapDatabase, type BootstrapUrls } from './database-bootstrap';
export { migrateDatabase, type MigrationOutcome, type MigrateOptions } from './migration-runner';
export { loadMigrations, migrationsRoot, type MigrationFile, type MigrationSet } from './migration-files';
export { connectPg, withPg, quoteIdent, parsePgUrl } from './pg-client';
export { ServiceUnreachableError, isConnectionFailure, hostOf } from './service-unavailable.error';
export { assertRedisReachable } from './redis-reachable';

export { bootstrapDatabase, type BootstrapUrls } from './database-bootstrap';
export { migrateDatabase, applyMigrationSet, type MigrationOutcome, type MigrateOptions, type MigrationTarget } from './migration-runner';
export { provisionSchema, provisionSilo, schemaNameFor, databaseNameFor, withDatabase } from './tenant-storage';
export { loadMigrations, migrationsRoot, type MigrationFile, type MigrationSet } from './migration-files';
export { connectPg, withPg, quoteIdent, parsePgUrl } from './pg-client';
export { ServiceUnreachableError, isConnectionFailure, hostOf } from './service-unavailable.error';
export { assertRedisReachable } from './redis-reachable';

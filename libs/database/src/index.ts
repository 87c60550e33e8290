export { bootstrapDatabase, type BootstrapUrls } from './database-bootstrap';
export { migrateDatabase, migrationsOf, type MigrationOutcome, type MigrateOptions, type AppliedMigration } from './migration-runner';
export { migrationSource, type MigrationSource, type CitusTablePlacement } from './migration-source';
export { detectDatabaseEngine, type DatabaseEngine } from './database-engine';
export { migrationLabel, type MigrationFile } from './migration-files';
export { provisionSchema, provisionSilo, withDatabase, type StorageOptions } from './tenant-storage';
export { isTenantId, isTenantIdAnyCase, isSchemaName, isDatabaseName, isSafeSearchPath, schemaNameFor, databaseNameFor } from './tenant-names';
export { connectPg, withPg, quoteIdent, parsePgUrl } from './pg-client';
export { ServiceUnreachableError, isConnectionFailure, hostOf } from './service-unavailable.error';

import { BulkheadConfig } from '@bulkhead/config';
import { hostOf, isConnectionFailure, ServiceUnreachableError } from '@bulkhead/database';
import { DataSource, EntitySchema, MixedList } from 'typeorm';
import { TenantStampSubscriber } from '../data/tenant-stamp.subscriber';
import { assertRuntimeRoleIsBound } from './runtime-role.check';

/** Private to this lib: nothing outside tenancy can inject the pool and reach tenant tables directly. */
export const RUNTIME_DATA_SOURCE = Symbol('bulkhead.runtime-data-source');
export const TENANT_ENTITIES = Symbol('bulkhead.tenant-entities');
export const APPLICATION_NAME = Symbol('bulkhead.application-name');

export type EntityList = MixedList<Function | string | EntitySchema>;

/**
 * The shared pool for pool-model tenants, connected as the runtime role. It refuses to come up
 * when that role could bypass row-level security.
 */
export async function openRuntimeDataSource(
  config: BulkheadConfig,
  entities: EntityList,
  applicationName: string,
  target: { url: string; poolMax: number } = { url: config.DATABASE_URL, poolMax: config.DATABASE_POOL_MAX },
): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url: target.url,
    entities,
    subscribers: [TenantStampSubscriber],
    synchronize: false,
    migrationsRun: false,
    logging: false,
    applicationName,
    // TypeORM drops undefined/null from a where object: `findById(undefined)` would match any row.
    invalidWhereValuesBehavior: { undefined: 'throw', null: 'throw' },
    extra: { max: target.poolMax, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30000 },
  });
  try {
    await dataSource.initialize();
  } catch (error) {
    if (isConnectionFailure(error)) throw new ServiceUnreachableError('PostgreSQL', hostOf(target.url));
    throw error;
  }
  try {
    await assertRuntimeRoleIsBound(dataSource);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
}

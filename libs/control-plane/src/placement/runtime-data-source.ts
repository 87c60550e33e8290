import { BulkheadConfig } from '@bulkhead/config';
import { hostOf, isConnectionFailure, PooledClient, ServiceUnreachableError } from '@bulkhead/database';
import { DataSource } from 'typeorm';
import { ControlPlaneOptions } from '../control-plane.options';
import { assertRuntimeRoleIsBound } from './runtime-role.check';

/**
 * A pool connected as the runtime role: the shared pool (pool and schema tenants) or one silo
 * tenant's. It refuses to come up when that role could bypass row-level security.
 */
export async function openRuntimeDataSource(
  config: BulkheadConfig,
  options: Pick<ControlPlaneOptions, 'entities' | 'subscribers'>,
  applicationName: string,
  target: { url: string; poolMax: number } = { url: config.DATABASE_URL, poolMax: config.DATABASE_POOL_MAX },
): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url: target.url,
    entities: options.entities,
    subscribers: options.subscribers,
    synchronize: false,
    migrationsRun: false,
    logging: false,
    applicationName,
    // TypeORM drops undefined/null from a where object: `findById(undefined)` would match any row.
    invalidWhereValuesBehavior: { undefined: 'throw', null: 'throw' },
    extra: { Client: PooledClient, max: target.poolMax, connectionTimeoutMillis: config.DATABASE_CONNECT_TIMEOUT_MS, idleTimeoutMillis: 30000 },
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

import { DatabaseEngine, detectDatabaseEngine } from '@bulkhead/database';
import { DataSource } from 'typeorm';

/** The tenant (and search path) a transaction runs under; validated before it reaches SQL. */
export interface TenantSettingScope {
  readonly tenantId: string;
  readonly searchPath?: string;
}

const engines = new WeakMap<DataSource, DatabaseEngine>();
const detecting = new WeakMap<DataSource, Promise<DatabaseEngine>>();

/**
 * The engine behind a data source, asked once per pool and then known synchronously, so the hot
 * path pays a map lookup, not a round trip. A failed probe is forgotten and asked again.
 */
export function engineOf(dataSource: DataSource): DatabaseEngine | Promise<DatabaseEngine> {
  const known = engines.get(dataSource);
  if (known) return known;
  let pending = detecting.get(dataSource);
  if (!pending) {
    pending = detectDatabaseEngine({ query: async (text) => ({ rows: await dataSource.query(text) }) }).then(
      (engine) => {
        engines.set(dataSource, engine);
        detecting.delete(dataSource);
        return engine;
      },
      (error: unknown) => {
        detecting.delete(dataSource);
        throw error;
      },
    );
    detecting.set(dataSource, pending);
  }
  return pending;
}

/**
 * The SELECT list that sets the tenant transaction-locally, for the one engine switch at run
 * time. Plain PostgreSQL: `set_config(..., true)`, the cheapest form. Citus: `bulkhead_set_tenant`
 * (tenancy migration 0002), whose SET LOCAL Citus propagates to the workers; `set_config` never
 * reaches them and every shard would see no tenant. The search path (schema tenants) only matters
 * where the plan is made, on the coordinator. Values come inlined: the caller validated them.
 */
export function tenantSettingSql(engine: DatabaseEngine, scope: TenantSettingScope): string {
  const tenant = engine === 'citus' ? `public.bulkhead_set_tenant('${scope.tenantId}')` : `set_config('app.tenant_id', '${scope.tenantId}', true)`;
  return scope.searchPath ? `${tenant}, set_config('search_path', '${scope.searchPath}', true)` : tenant;
}

import { DatabaseEngine, detectDatabaseEngine } from '@bulkhead/database';
import { DataSource } from 'typeorm';

/** The tenant (and search path) a transaction runs under; validated before it reaches SQL. */
export interface TenantSettingScope {
  readonly tenantId: string;
  readonly searchPath?: string;
}

const engines = new WeakMap<DataSource, DatabaseEngine>();
/** By database (server and name): a silo's pool is reopened as a new data source each time it was evicted. */
const byDatabase = new Map<string, DatabaseEngine>();
const detecting = new Map<string, Promise<DatabaseEngine>>();
const BY_DATABASE_LIMIT = 10_000;

/**
 * The engine behind a data source, asked once per database per process and then known
 * synchronously, so the hot path pays a map lookup, not a round trip. Keyed by the database the
 * pool connects to, not by the data source: a silo's pool closed by the connection budget and
 * opened again is a new data source over the same database, and asking again cost every churned
 * request of a silo a query on its fresh backend. A failed probe is forgotten and asked again.
 */
export function engineOf(dataSource: DataSource): DatabaseEngine | Promise<DatabaseEngine> {
  const known = engines.get(dataSource);
  if (known) return known;
  const key = databaseKeyOf(dataSource);
  const remembered = byDatabase.get(key);
  if (remembered) {
    engines.set(dataSource, remembered);
    return remembered;
  }
  let pending = detecting.get(key);
  if (!pending) {
    pending = detectDatabaseEngine({ query: async (text) => ({ rows: await dataSource.query(text) }) }).then(
      (engine) => {
        if (byDatabase.size >= BY_DATABASE_LIMIT) byDatabase.clear();
        byDatabase.set(key, engine);
        detecting.delete(key);
        return engine;
      },
      (error: unknown) => {
        detecting.delete(key);
        throw error;
      },
    );
    detecting.set(key, pending);
  }
  return pending.then((engine) => {
    engines.set(dataSource, engine);
    return engine;
  });
}

/**
 * `host:port/database` of the pool behind a data source (its connection string, or its options);
 * a data source whose pool names no database is its own key (it shares no answer).
 */
function databaseKeyOf(dataSource: DataSource): string {
  const pool = (dataSource.driver as unknown as { master?: { options?: { connectionString?: string; host?: string; port?: number; database?: string } } }).master;
  const options = pool?.options ?? {};
  const url = options.connectionString ? new URL(options.connectionString) : undefined;
  const database = url ? url.pathname.slice(1) : options.database;
  if (!database) return `unnamed:${unnamedId(dataSource)}`;
  return url ? `${url.hostname}:${url.port || '5432'}/${database}` : `${options.host ?? ''}:${options.port ?? 5432}/${database}`;
}

const unnamed = new WeakMap<DataSource, number>();
let nextUnnamed = 0;
function unnamedId(dataSource: DataSource): number {
  let id = unnamed.get(dataSource);
  if (id === undefined) unnamed.set(dataSource, (id = nextUnnamed++));
  return id;
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

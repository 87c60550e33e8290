/**
 * The one place tenant ids and the database object names derived from them are checked. Names
 * are never taken from input: they derive from the tenant id, and every consumer validates them
 * against these patterns before quoting them into SQL.
 */
const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SCHEMA_NAME = /^t_[0-9a-f]{32}$/;
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,20}_t_[0-9a-f]{32}$/;
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const SEARCH_PATH = /^"[a-z_][a-z0-9_]{0,62}"(, "[a-z_][a-z0-9_]{0,62}")*$/;

/** A canonical (lower-case) uuid. */
export function isTenantId(value: unknown): value is string {
  return typeof value === 'string' && TENANT_ID.test(value);
}

/** A uuid in either case, as a token or a URL may carry it; compare after lower-casing. */
export function isTenantIdAnyCase(value: unknown): value is string {
  return typeof value === 'string' && TENANT_ID.test(value.toLowerCase());
}

export function isSchemaName(value: unknown): value is string {
  return typeof value === 'string' && SCHEMA_NAME.test(value);
}

export function isDatabaseName(value: unknown): value is string {
  return typeof value === 'string' && DATABASE_NAME.test(value);
}

/** A plain lower-case SQL identifier (roles, databases). */
export function isPlainIdentifier(value: unknown): value is string {
  return typeof value === 'string' && IDENTIFIER.test(value);
}

/** A `search_path` value made only of quoted safe identifiers. */
export function isSafeSearchPath(value: unknown): value is string {
  return typeof value === 'string' && SEARCH_PATH.test(value);
}

/** `t_<tenant id without dashes>`. */
export function schemaNameFor(tenantId: string): string {
  if (!isTenantId(tenantId)) throw new Error('tenant id must be a canonical uuid');
  return `t_${tenantId.replace(/-/g, '')}`;
}

/** `<cluster database>_t_<tenant id>`: tied to the cluster's database so test and dev silos never mix. */
export function databaseNameFor(tenantId: string, clusterDatabase: string): string {
  if (!isTenantId(tenantId)) throw new Error('tenant id must be a canonical uuid');
  const name = `${clusterDatabase}_t_${tenantId.replace(/-/g, '')}`;
  if (!isDatabaseName(name)) throw new Error(`cluster database name ${clusterDatabase} is too long or unsafe for silo names`);
  return name;
}

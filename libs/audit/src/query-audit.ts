import type { Client } from 'pg';

/** One statement `pg_stat_statements` saw that breaks a boundary rule. */
export interface QueryFinding {
  rule: 'missing_tenant_predicate' | 'rls_bypassing_role';
  role: string;
  queryId: string;
  calls: number;
  tables: string[];
  /** The normalised statement text (constants already replaced by $n), cut to 300 characters. */
  query: string;
}

export interface QueryAuditReport {
  /** False when pg_stat_statements is not loaded (shared_preload_libraries) or not installed: nothing was checked. */
  available: boolean;
  reason: string | null;
  statements: number;
  findings: QueryFinding[];
}

const DATA_STATEMENT = /^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|MERGE)\b/i;
const TENANT_PREDICATE = /\btenant_id\b/i;

/**
 * The query audit over `pg_stat_statements` of one database: every data statement that names a
 * tenant table (a table with a `tenant_id` column) must carry a tenant predicate, and no role that
 * can bypass RLS (superuser, BYPASSRLS) should touch tenant tables at all. RLS makes a predicate-less
 * statement of the runtime role safe, but it is still a bug in the application's scoping (and it
 * defeats the tenant-led indexes); a bypassing role's statement is a read or write no policy checked.
 * Covers the cluster database and its silo databases (`<database>_t_<id>`). Run it as a role that
 * can read every role's statements (the admin role).
 */
export async function runQueryAudit(client: Client): Promise<QueryAuditReport> {
  const installed = await client.query<{ loaded: boolean; installed: boolean }>(
    `SELECT 'pg_stat_statements' = ANY (string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ',')) AS loaded,
            EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') AS installed`,
  );
  const { loaded, installed: present } = installed.rows[0];
  if (!loaded) return { available: false, reason: 'pg_stat_statements is not in shared_preload_libraries', statements: 0, findings: [] };
  if (!present) return { available: false, reason: 'the pg_stat_statements extension is not installed in this database (CREATE EXTENSION pg_stat_statements)', statements: 0, findings: [] };

  const tables = await client.query<{ name: string }>(
    `SELECT DISTINCT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)`,
  );
  const names = tables.rows.map((row) => row.name);
  const statements = await client.query<{ role: string; bypass: boolean; queryid: string; calls: string; query: string }>(
    `SELECT r.rolname AS role, (r.rolsuper OR r.rolbypassrls) AS bypass, s.queryid::text AS queryid, s.calls::text AS calls, s.query
       FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
      WHERE s.dbid IN (SELECT oid FROM pg_database WHERE datname = current_database() OR datname LIKE current_database() || '\\_t\\_%')`,
  );
  const findings: QueryFinding[] = [];
  for (const row of statements.rows) {
    if (!DATA_STATEMENT.test(row.query)) continue;
    const touched = names.filter((name) => new RegExp(`(^|[\\s."(,])${name}("|\\b)`, 'i').test(row.query));
    if (touched.length === 0) continue;
    // The audit itself reads pg_stat_statements and the catalogue, never tenant rows.
    const base = { role: row.role, queryId: row.queryid, calls: Number(row.calls), tables: touched, query: row.query.slice(0, 300) };
    if (row.bypass) findings.push({ rule: 'rls_bypassing_role', ...base });
    else if (!TENANT_PREDICATE.test(row.query)) findings.push({ rule: 'missing_tenant_predicate', ...base });
  }
  return { available: true, reason: null, statements: statements.rows.length, findings };
}

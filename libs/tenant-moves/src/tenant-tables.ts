import { quoteIdent } from '@bulkhead/database';
import { OwnerSession } from './owner-session';

/** A table of tenant data in one placement, with its primary key (tenant_id first). */
export interface TenantTable {
  name: string;
  key: string[];
  keyTypes: string[];
}

export function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/** `ORDER BY` list of a table's key, for ordered hashes. */
export function keyOrder(table: TenantTable, alias = 't'): string {
  return table.key.map((column) => `${alias}.${quoteIdent(column)}`).join(', ');
}

/** `AS k(col type, ...)` for jsonb_to_recordset of a table's keys. */
export function keyRecordType(table: TenantTable): string {
  return table.key.map((column, i) => `${quoteIdent(column)} ${table.keyTypes[i]}`).join(', ');
}

export function keyJoin(table: TenantTable, left: string, right: string): string {
  return table.key.map((column) => `${left}.${quoteIdent(column)} = ${right}.${quoteIdent(column)}`).join(' AND ');
}

/**
 * Every table with a `tenant_id` column in a placement's schema. A tenant table without a primary
 * key could not be caught up or compared row by row: refused rather than silently skipped.
 */
export async function tenantTables(session: OwnerSession, schema: string): Promise<TenantTable[]> {
  const rows = await session.query<{ name: string; key: string[] | null; key_types: string[] | null }>(
    `SELECT c.relname AS name,
            (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum) AS key,
            (SELECT array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY k.ord) FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum) AS key_types
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
      WHERE n.nspname = $1 AND c.relkind = 'r'
        AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
      ORDER BY c.relname`,
    [schema],
  );
  return rows.map((row) => {
    if (!row.key || !row.key_types) throw new Error(`tenant table ${schema}.${row.name} has no primary key: it cannot be moved row by row`);
    return { name: row.name, key: row.key, keyTypes: row.key_types };
  });
}

/** Both sides must carry the same tables with the same keys (the same migrations). */
export function assertSameTables(source: TenantTable[], target: TenantTable[]): void {
  const describe = (tables: TenantTable[]) => tables.map((t) => `${t.name}(${t.key.join(',')})`).join(' ');
  if (describe(source) !== describe(target)) {
    throw new Error(`source and target placements carry different tables: ${describe(source)} vs ${describe(target)}; migrate both first`);
  }
}

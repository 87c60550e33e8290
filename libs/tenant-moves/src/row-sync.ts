import { MoverPace } from './mover-pace';
import { OwnerSession } from './owner-session';
import { quoteLiteral } from '@bulkhead/database';
import { keyJoin, keyOrder, keyRecordType, qualified, TenantTable } from './tenant-tables';

/**
 * Rows travel as JSON (`row_to_json` out, `json_populate_recordset` in): every column type
 * round-trips exactly (numeric, timestamptz to the microsecond, bytea, jsonb, arrays), and the
 * same path serves one database and two clusters. The target applies them in replica mode, so
 * its triggers (audit chaining, foreign keys) leave them exactly as the source had them.
 */
async function insertRows(target: OwnerSession, schema: string, table: TenantTable, rows: string[]): Promise<void> {
  if (!rows.length) return;
  const into = qualified(schema, table.name);
  await target.query(`INSERT INTO ${into} SELECT * FROM json_populate_recordset(NULL::${into}, $1::json)`, [`[${rows.join(',')}]`]);
}

/** Removes the tenant's rows from a placement, whatever the triggers think of deletes (replica mode). */
export async function clearTenantRows(session: OwnerSession, schema: string, tables: TenantTable[]): Promise<void> {
  await session.transaction(
    async () => {
      for (const table of tables) await session.query(`DELETE FROM ${qualified(schema, table.name)} WHERE tenant_id = $1`, [session.tenantId]);
    },
    { replica: true },
  );
}

/**
 * The same, in batches of `batchRows` per table and transaction, resting after each (`pace`): a
 * pool source's rows go out of shared tables other tenants are using, and one transaction deleting
 * a big tenant's every row held the database (and its WAL) in one burst.
 */
export async function clearTenantRowsPaced(session: OwnerSession, schema: string, tables: TenantTable[], batchRows: number, pace: MoverPace): Promise<void> {
  for (const table of tables) {
    const from = qualified(schema, table.name);
    for (;;) {
      const [{ n }] = await session.transaction(
        () =>
          session.query<{ n: number }>(
            `WITH gone AS (DELETE FROM ${from} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${from} WHERE tenant_id = $1 LIMIT ${Math.trunc(batchRows)})) RETURNING 1)
             SELECT count(*)::int AS n FROM gone`,
            [session.tenantId],
          ),
        { replica: true },
      );
      await pace.rest();
      if (n === 0) break;
    }
  }
}

/**
 * Copies every row of the tenant as of one snapshot of the source, taken after capture began: a
 * row written since is both copied and logged, and the catch-up re-reads it by key (idempotent).
 */
export async function copySnapshot(
  source: OwnerSession,
  sourceSchema: string,
  target: OwnerSession,
  targetSchema: string,
  tables: TenantTable[],
  batchRows: number,
  onBatch: (table: string, rows: number) => Promise<void>,
): Promise<void> {
  await source.transaction(
    async () => {
      for (const [index, table] of tables.entries()) {
        const cursor = `bulkhead_copy_${index}`;
        await source.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT row_to_json(t)::text AS r FROM ${qualified(sourceSchema, table.name)} t WHERE t.tenant_id = '${source.tenantId}'`);
        for (;;) {
          const rows = await source.query<{ r: string }>(`FETCH ${batchRows} FROM ${cursor}`);
          if (!rows.length) break;
          await target.transaction(() => insertRows(target, targetSchema, table, rows.map((row) => row.r)), { replica: true });
          await onBatch(table.name, rows.length);
        }
        await source.query(`CLOSE ${cursor}`);
      }
    },
    { snapshot: true, readOnly: true },
  );
}

/**
 * One round of catch-up: takes up to `limit` logged changes, reads the current source row of each
 * changed key in one snapshot, and makes the target's row the same (replaced, or deleted when the
 * source has none). Then forgets exactly the entries applied; a crash in between applies them
 * again, to the same end. Answers how many log entries it applied.
 */
export async function applyChanges(
  source: OwnerSession,
  sourceSchema: string,
  target: OwnerSession,
  targetSchema: string,
  tables: TenantTable[],
  limit: number,
): Promise<number> {
  const entries = await source.query<{ seq: string; tbl: string; pk: Record<string, unknown> }>(
    'SELECT seq, tbl, pk FROM bulkhead_move.changes WHERE tenant = $1 ORDER BY seq LIMIT $2',
    [source.tenantId, limit],
  );
  if (!entries.length) return 0;
  const byName = new Map(tables.map((table) => [table.name, table]));
  const keys = new Map<string, Map<string, Record<string, unknown>>>();
  for (const entry of entries) {
    if (!byName.has(entry.tbl)) throw new Error(`a change was captured on ${entry.tbl}, which the target does not carry`);
    let ofTable = keys.get(entry.tbl);
    if (!ofTable) keys.set(entry.tbl, (ofTable = new Map()));
    ofTable.set(JSON.stringify(entry.pk), entry.pk);
  }
  const current = await source.transaction(
    async () => {
      const found = new Map<string, string[]>();
      for (const [name, ofTable] of keys) {
        const table = byName.get(name)!;
        const rows = await source.query<{ r: string }>(
          `SELECT row_to_json(t)::text AS r FROM ${qualified(sourceSchema, name)} t
             JOIN jsonb_to_recordset($1::jsonb) AS k(${keyRecordType(table)}) ON ${keyJoin(table, 't', 'k')}`,
          [JSON.stringify([...ofTable.values()])],
        );
        found.set(name, rows.map((row) => row.r));
      }
      return found;
    },
    { snapshot: true, readOnly: true },
  );
  await target.transaction(
    async () => {
      for (const [name, ofTable] of keys) {
        const table = byName.get(name)!;
        await target.query(
          `DELETE FROM ${qualified(targetSchema, name)} t USING jsonb_to_recordset($1::jsonb) AS k(${keyRecordType(table)}) WHERE ${keyJoin(table, 't', 'k')}`,
          [JSON.stringify([...ofTable.values()])],
        );
        await insertRows(target, targetSchema, table, current.get(name) ?? []);
      }
    },
    { replica: true },
  );
  await source.query('DELETE FROM bulkhead_move.changes WHERE tenant = $1 AND seq = ANY($2::bigint[])', [source.tenantId, entries.map((entry) => entry.seq)]);
  return entries.length;
}

export interface TableParity {
  rows: number;
  hash: string;
}

/**
 * How each table's rows are hashed: `hash_record_extended` (PostgreSQL's own 64-bit hash of a row,
 * column by column in binary, as hash partitioning uses it) where every column is of a type whose
 * hash says exactly what its text says (`EXACT_HASH_TYPES`, default or C collation), else an md5
 * of the row's text. The text form spent most of a fence on a big tenant: 720-830 ms for 100,000
 * orders against 300 ms, most of it printing timestamps. Left to text: numeric and jsonb (1.0 and
 * 1.00 hash alike), floats (-0 and 0), intervals, arrays (their hash ignores bounds), enums and
 * reg* types (their hash is an OID, which differs between two placements' copies of the type),
 * domains, and columns under a nondeterministic collation.
 */
export type RowHash = 'record' | 'text';

const EXACT_HASH_TYPES = ['uuid', 'text', 'varchar', 'bpchar', 'int2', 'int4', 'int8', 'bool', 'bytea', 'date', 'timestamp', 'timestamptz'];
/** The default collation, C and POSIX: deterministic, and the same on every cluster. */
const EXACT_COLLATIONS = [100, 950, 951];

/** Which `RowHash` each table takes, from the catalog of the placement. */
export async function rowHashes(session: OwnerSession, schema: string, tables: TenantTable[]): Promise<Map<string, RowHash>> {
  const rows = await session.query<{ name: string; exact: boolean }>(
    `SELECT c.relname AS name, bool_and(a.atttypid = ANY($3::regtype[]) AND (a.attcollation = 0 OR a.attcollation = ANY($4::oid[]))) AS exact
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = $1 AND c.relname = ANY($2::text[])
      GROUP BY c.relname`,
    [schema, tables.map((table) => table.name), EXACT_HASH_TYPES, EXACT_COLLATIONS],
  );
  const exact = new Map(rows.map((row) => [row.name, row.exact]));
  return new Map(tables.map((table) => [table.name, exact.get(table.name) === true ? 'record' : 'text']));
}

/**
 * Per table: the tenant's row count and an ordered hash of every row (each row's hash, in primary
 * key order), every table in one statement and one snapshot: under the fence each round trip is
 * time the tenant's writes wait. `work_mem` is raised for it so that a sort of a big tenant's
 * keys stays in memory. The rows reach `string_agg` in key order from the subquery (PostgreSQL
 * keeps a sorted subquery's order into a plain aggregate; were it not kept, both sides would
 * disagree and the move would stop, not switch).
 */
export async function parityOf(session: OwnerSession, schema: string, tables: TenantTable[], hashes: Map<string, RowHash>): Promise<Record<string, TableParity>> {
  if (!tables.length) return {};
  const parts = tables.map((table) => {
    const rowHash = hashes.get(table.name) === 'record' ? "to_hex(hash_record_extended(t, 0)) || ','" : 'md5(t::text)';
    return `SELECT ${quoteLiteral(table.name)}::text AS tbl, count(*)::bigint AS n, md5(coalesce(string_agg(h, ''), '')) AS h
              FROM (SELECT ${rowHash} AS h FROM ${qualified(schema, table.name)} t WHERE t.tenant_id = $1 ORDER BY ${keyOrder(table)}) s`;
  });
  return session.transaction(
    async () => {
      await session.query("SET LOCAL work_mem = '32MB'");
      const rows = await session.query<{ tbl: string; n: string; h: string }>(parts.join(' UNION ALL '), [session.tenantId]);
      return Object.fromEntries(rows.map((row) => [row.tbl, { rows: Number(row.n), hash: row.h }]));
    },
    { snapshot: true, readOnly: true },
  );
}

/** The tables whose count or hash differ, empty when both sides hold the same rows. */
export function parityMismatches(source: Record<string, TableParity>, target: Record<string, TableParity>): string[] {
  const names = new Set([...Object.keys(source), ...Object.keys(target)]);
  return [...names].filter((name) => source[name]?.rows !== target[name]?.rows || source[name]?.hash !== target[name]?.hash);
}

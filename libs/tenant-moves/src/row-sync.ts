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
 * column by column in binary, as hash partitioning uses it) where every column's type has one,
 * else an md5 of the row's text. The text form spent most of a fence on a big tenant: 720-830 ms
 * for 100,000 orders against 300 ms, most of it printing timestamps and numerics. A type's hash
 * follows its equality (numeric 1.0 and 1.00 hash alike), which the copy cannot tell apart
 * anyway: rows travel as their text and come back equal.
 */
export type RowHash = 'record' | 'text';

/** Which `RowHash` each table takes: a row of NULLs hashed, which fails for a column type with no extended hash function. */
export async function rowHashes(session: OwnerSession, schema: string, tables: TenantTable[]): Promise<Map<string, RowHash>> {
  const forms = new Map<string, RowHash>();
  for (const table of tables) {
    const into = qualified(schema, table.name);
    const ok = await session.query(`SELECT hash_record_extended(json_populate_record(NULL::${into}, '{}'), 0)`).then(
      () => true,
      () => false,
    );
    forms.set(table.name, ok ? 'record' : 'text');
  }
  return forms;
}

/**
 * Per table: the tenant's row count and an ordered hash of every row (each row's hash, in primary
 * key order), every table in one statement and one snapshot: under the fence each round trip is
 * time the tenant's writes wait. `work_mem` is raised for it so that a sort of a big tenant's
 * keys stays in memory.
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
      await session.query("SET LOCAL work_mem = '64MB'");
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

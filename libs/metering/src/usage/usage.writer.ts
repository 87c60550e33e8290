import { TenantTransaction, toSqlLiteral } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { Granularity } from './usage-period';

/** One event ready for the log: validated, its meter known, its value and unique key extracted. */
export interface UsageEventRow {
  /** `usageEventRowId(tenant, eventId)`. */
  rowId: string;
  eventId: string;
  meter: string;
  origin: 'recorded' | 'ingested';
  source: string;
  subject: string | null;
  occurredAt: Date;
  /** Decimal text: summed and compared by PostgreSQL `numeric`, never by a float. */
  value: string;
  uniqueKey: string | null;
  data: unknown;
}

/**
 * Writes events and their rollups in one statement (`usage_write`), in the caller's transaction: the events go
 * into the permanent log with `ON CONFLICT DO NOTHING`, and only the rows that statement inserted
 * feed the hour/day/month rollups (data-modifying CTEs see exactly the rows their INSERT
 * returned). A replay therefore counts zero times, a late event lands in its own period, and a
 * rolled-back transaction leaves neither log nor rollup behind.
 *
 * Rollups go to the shard of the writer's connection (`usage_rollups.shard`, 1-16; readers merge
 * them through `usage_rollup_totals`), so one tenant's concurrent writers seldom wait on each other;
 * a quota's period row stays one row (shard 0), which is what keeps the quota exact. Events are
 * sorted by row id and rollups by theirs, so writers that do share rows take their locks in one
 * order and cannot deadlock. With a quota, the same statement updates the
 * quota's period row only within the limit (see `quota`), so a metered write is one round trip.
 */
@Injectable()
export class UsageWriter {
  /**
   * The row ids this call inserted (the others were already in the log), and with a quota, the
   * quota's use after this write, or `refused` when the write would pass the limit: the caller
   * must then throw, rolling the whole transaction back (the statement already wrote the rest).
   */
  async write(tx: TenantTransaction, events: readonly UsageEventRow[], options: { quota?: QuotaCheck } = {}): Promise<WriteOutcome> {
    if (events.length === 0) return { inserted: new Set() };
    const quota = options.quota;
    const rows = await tx.statement<{ id: string | null; quota_used: string | null }>(WRITE_SQL, [
      ...eventColumns(events),
      quota?.granularity ?? null,
      quota?.limit ?? null,
      quota?.measure ?? null,
    ]);
    const inserted = new Set(rows.filter((row) => row.id !== null).map((row) => row.id as string));
    if (!quota || inserted.size === 0) return { inserted };
    const used = rows[0]?.quota_used;
    return used === null || used === undefined ? { inserted, refused: true } : { inserted, used: Number(used) };
  }
}

/**
 * The same write as `UsageWriter.write` without a quota, as a literal-only statement to travel in
 * the transaction's COMMIT message (`tx.commitWith`): the events and their rollups commit with the
 * action, or neither does, and the write costs no round trip of its own. Nothing comes back, so a
 * caller that must know whether an event was new, or check a quota, uses `write`.
 */
export function usageWriteStatement(tenantId: string, events: readonly UsageEventRow[]): string {
  const arrays = eventColumns(events).map((values, i) => `ARRAY[${values.map(toSqlLiteral).join(', ')}]::${EVENT_COLUMN_TYPES[i]}[]`);
  return `SELECT count(*) FROM usage_write(${[`${toSqlLiteral(tenantId)}::uuid`, ...arrays, 'NULL::text', 'NULL::numeric', 'NULL::text'].join(', ')})`;
}

/** `usage_write`'s event arrays in its argument order, sorted by row id (see `UsageWriter`), and their types. */
function eventColumns(events: readonly UsageEventRow[]): Array<Array<string | null>> {
  const sorted = [...events].sort((a, b) => (a.rowId < b.rowId ? -1 : a.rowId > b.rowId ? 1 : 0));
  return [
    sorted.map((e) => e.rowId),
    sorted.map((e) => e.eventId),
    sorted.map((e) => e.meter),
    sorted.map((e) => e.origin),
    sorted.map((e) => e.source),
    sorted.map((e) => e.subject),
    sorted.map((e) => e.occurredAt.toISOString()),
    sorted.map((e) => e.value),
    sorted.map((e) => e.uniqueKey),
    sorted.map((e) => (e.data === undefined || e.data === null ? null : JSON.stringify(e.data))),
  ];
}

const EVENT_COLUMN_TYPES = ['uuid', 'text', 'text', 'text', 'text', 'text', 'timestamptz', 'numeric', 'text', 'jsonb'] as const;

/** A quota checked by the same statement: its period's rollup row is updated only within the limit. */
export interface QuotaCheck {
  granularity: Granularity;
  limit: number;
  measure: 'event_count' | 'value_sum';
}

export interface WriteOutcome {
  inserted: Set<string>;
  used?: number;
  refused?: true;
}

/**
 * The statement itself is `usage_write` (metering migration 0003): a function keeps its plan for
 * the session, where this text sent as a statement was planned anew on every write (about 60% of
 * its cost). Events without a unique key and no quota take a shorter statement (migration 0004).
 * `$1` is the transaction's tenant.
 */
const WRITE_SQL = `SELECT event_row AS id, quota_used
  FROM usage_write($1, $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::numeric[], $10::text[], $11::jsonb[], $12::text, $13::numeric, $14::text)`;

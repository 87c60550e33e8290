import { TenantTransaction } from '@bulkhead/tenancy';
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

/** Rollup shards a period's row is split into (besides shard 0, the single row a quota checks). */
const ROLLUP_SHARDS = 16;

/** The rollup row id of a meter's period (shard 0), computed the same way in every statement. */
export const ROLLUP_ID_SQL = (meter: string, granularity: string, start: string) =>
  `md5(${meter} || '|' || ${granularity} || '|' || extract(epoch FROM ${start})::bigint::text)::uuid`;

/**
 * Writes events and their rollups in one statement, in the caller's transaction: the events go
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
    const sorted = [...events].sort((a, b) => (a.rowId < b.rowId ? -1 : a.rowId > b.rowId ? 1 : 0));
    const quota = options.quota;
    const rows = await tx.statement<{ id: string | null; quota_used: string | null }>(WRITE_SQL, [
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

const WRITE_SQL = `
WITH inserted AS (
  INSERT INTO usage_events (tenant_id, id, event_id, meter, origin, source, subject, occurred_at, value, unique_key, data)
  SELECT $1, e.id, e.event_id, e.meter, e.origin, e.source, e.subject, e.occurred_at, e.value, e.unique_key, e.data
    FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::numeric[], $10::text[], $11::jsonb[])
      AS e(id, event_id, meter, origin, source, subject, occurred_at, value, unique_key, data)
  ON CONFLICT (tenant_id, id) DO NOTHING
  RETURNING id, meter, occurred_at, value, unique_key
),
buckets AS (
  SELECT i.id, i.meter, i.occurred_at, i.value, i.unique_key, g.granularity,
         date_trunc(g.granularity, i.occurred_at, 'UTC') AS period_start
    FROM inserted i CROSS JOIN (VALUES ('hour'), ('day'), ('month')) AS g(granularity)
),
new_uniques AS (
  INSERT INTO usage_unique_values (tenant_id, id)
  SELECT DISTINCT $1::uuid, md5(${ROLLUP_ID_SQL('b.meter', 'b.granularity', 'b.period_start')}::text || '|' || b.unique_key)::uuid
    FROM buckets b WHERE b.unique_key IS NOT NULL
  ON CONFLICT (tenant_id, id) DO NOTHING
  RETURNING id
),
unique_deltas AS (
  SELECT b.meter, b.granularity, b.period_start, count(DISTINCT n.id) AS n
    FROM buckets b
    JOIN new_uniques n ON n.id = md5(${ROLLUP_ID_SQL('b.meter', 'b.granularity', 'b.period_start')}::text || '|' || b.unique_key)::uuid
   GROUP BY 1, 2, 3
),
deltas AS (
  SELECT meter, granularity, period_start, count(*) AS n, sum(value) AS s, max(value) AS mx,
         (array_agg(value ORDER BY occurred_at DESC, id DESC))[1] AS lv,
         max(occurred_at) AS la,
         (array_agg(id ORDER BY occurred_at DESC, id DESC))[1] AS le
    FROM buckets GROUP BY 1, 2, 3
),
-- The shard of this connection: concurrent writers of one tenant rarely share a rollup row.
shard AS (SELECT (1 + pg_backend_pid() % ${ROLLUP_SHARDS})::smallint AS n),
rolled AS (
  INSERT INTO usage_rollups (tenant_id, id, meter, granularity, period_start, shard, event_count, value_sum, value_max, unique_count, latest_value, latest_at, latest_event)
  SELECT $1, md5(${ROLLUP_ID_SQL('d.meter', 'd.granularity', 'd.period_start')}::text || '|' || shard.n::text)::uuid, d.meter, d.granularity, d.period_start, shard.n,
         d.n, d.s, d.mx, coalesce(u.n, 0), d.lv, d.la, d.le
    FROM deltas d LEFT JOIN unique_deltas u USING (meter, granularity, period_start) CROSS JOIN shard
   WHERE d.granularity IS DISTINCT FROM $12::text
   ORDER BY 2
  ON CONFLICT (tenant_id, id) DO UPDATE SET
    event_count = usage_rollups.event_count + EXCLUDED.event_count,
    value_sum = usage_rollups.value_sum + EXCLUDED.value_sum,
    value_max = GREATEST(usage_rollups.value_max, EXCLUDED.value_max),
    unique_count = usage_rollups.unique_count + EXCLUDED.unique_count,
    latest_value = CASE WHEN (EXCLUDED.latest_at, EXCLUDED.latest_event) > (usage_rollups.latest_at, usage_rollups.latest_event) THEN EXCLUDED.latest_value ELSE usage_rollups.latest_value END,
    latest_event = CASE WHEN (EXCLUDED.latest_at, EXCLUDED.latest_event) > (usage_rollups.latest_at, usage_rollups.latest_event) THEN EXCLUDED.latest_event ELSE usage_rollups.latest_event END,
    latest_at = GREATEST(usage_rollups.latest_at, EXCLUDED.latest_at),
    updated_at = now()
  RETURNING 1
),
-- The quota's period row (shard 0, one row), updated only while within the limit: concurrent
-- writers queue on its row lock and each re-checks the limit against the committed total, plus
-- whatever the period's other shards hold (usage counted while the tenant's plan had no quota on
-- this meter). No row back: refused.
quota AS (
  INSERT INTO usage_rollups AS r (tenant_id, id, meter, granularity, period_start, event_count, value_sum, value_max, unique_count, latest_value, latest_at, latest_event)
  SELECT $1, ${ROLLUP_ID_SQL('d.meter', 'd.granularity', 'd.period_start')}, d.meter, d.granularity, d.period_start, d.n, d.s, d.mx, 0, d.lv, d.la, d.le
    FROM deltas d
   WHERE d.granularity = $12::text
  ON CONFLICT (tenant_id, id) DO UPDATE SET
    event_count = r.event_count + EXCLUDED.event_count,
    value_sum = r.value_sum + EXCLUDED.value_sum,
    value_max = GREATEST(r.value_max, EXCLUDED.value_max),
    latest_value = CASE WHEN (EXCLUDED.latest_at, EXCLUDED.latest_event) > (r.latest_at, r.latest_event) THEN EXCLUDED.latest_value ELSE r.latest_value END,
    latest_event = CASE WHEN (EXCLUDED.latest_at, EXCLUDED.latest_event) > (r.latest_at, r.latest_event) THEN EXCLUDED.latest_event ELSE r.latest_event END,
    latest_at = GREATEST(r.latest_at, EXCLUDED.latest_at),
    updated_at = now()
  WHERE CASE $14::text WHEN 'event_count' THEN r.event_count + EXCLUDED.event_count ELSE r.value_sum + EXCLUDED.value_sum END
        <= $13::numeric - (SELECT coalesce(sum(CASE $14::text WHEN 'event_count' THEN o.event_count::numeric ELSE o.value_sum END), 0) FROM usage_rollups o
                            WHERE o.tenant_id = $1 AND o.meter = r.meter AND o.granularity = r.granularity AND o.period_start = r.period_start AND o.shard > 0)
  RETURNING CASE $14::text WHEN 'event_count' THEN r.event_count::numeric ELSE r.value_sum END
          + (SELECT coalesce(sum(CASE $14::text WHEN 'event_count' THEN o.event_count::numeric ELSE o.value_sum END), 0) FROM usage_rollups o
              WHERE o.tenant_id = $1 AND o.meter = r.meter AND o.granularity = r.granularity AND o.period_start = r.period_start AND o.shard > 0) AS used
)
SELECT i.id, (SELECT used::text FROM quota) AS quota_used FROM inserted i`;

-- Rollups in shards. One row per (meter, period) made every write of a tenant that counts usage
-- take that row's lock until its COMMIT's WAL flush: one busy tenant's orders committed one at a
-- time (pgbench, one tenant, 10 clients: 1,067 tps with the insert alone, 278 with one hot
-- counter row). A writer now adds to the shard of its connection (1 + backend pid % 16), so
-- concurrent writers of one tenant rarely meet on a row; readers merge the shards through
-- `usage_rollup_totals`. Shard 0 is the exact, single row of a period under a plan quota (its
-- conditional upsert is what makes quotas exact; those writers still queue on it) and of every
-- row written before this migration.
ALTER TABLE usage_rollups ADD COLUMN shard smallint NOT NULL DEFAULT 0 CHECK (shard BETWEEN 0 AND 16);
DROP INDEX usage_rollups_tenant_meter_period;
CREATE UNIQUE INDEX usage_rollups_tenant_meter_period ON usage_rollups (tenant_id, meter, granularity, period_start, shard);

-- Every aggregation merges: counts and sums add up, maxima take the max, unique counts add up
-- (the values themselves are deduplicated across shards in usage_unique_values), and the latest
-- value is the one of the latest event by time, then by event row id. security_invoker: the
-- reader's RLS applies to the rows underneath, as if it read usage_rollups itself.
CREATE VIEW usage_rollup_totals WITH (security_invoker = true) AS
SELECT tenant_id, meter, granularity, period_start,
       sum(event_count)::bigint AS event_count,
       sum(value_sum) AS value_sum,
       max(value_max) AS value_max,
       sum(unique_count)::bigint AS unique_count,
       (array_agg(latest_value ORDER BY latest_at DESC NULLS LAST, latest_event DESC NULLS LAST))[1] AS latest_value,
       max(latest_at) AS latest_at,
       (array_agg(latest_event ORDER BY latest_at DESC NULLS LAST, latest_event DESC NULLS LAST))[1] AS latest_event
  FROM usage_rollups
 GROUP BY tenant_id, meter, granularity, period_start;
GRANT SELECT ON usage_rollup_totals TO :runtime_role;

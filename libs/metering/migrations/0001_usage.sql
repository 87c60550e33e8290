-- Usage metering: the event log, its rollups, quota alerts, billing sends and reconciliations.
-- Every row lives in the tenant's own placement (pool, schema or silo), keyed (tenant_id, id),
-- protected by RLS like every tenant table. Ids are derived from natural keys (the event id, the
-- meter and period) so that a replay conflicts instead of counting twice.

-- The permanent ingest log: one row per (tenant, event id), never updated, never expired. A
-- replayed event conflicts on the key and counts zero times, however late it comes back.
CREATE TABLE usage_events (
  tenant_id    uuid        NOT NULL,
  id           uuid        NOT NULL,
  event_id     text        NOT NULL CHECK (char_length(event_id) BETWEEN 1 AND 100),
  meter        text        NOT NULL CHECK (char_length(meter) BETWEEN 1 AND 64),
  origin       text        NOT NULL CHECK (origin IN ('recorded', 'ingested')),
  source       text        NOT NULL CHECK (char_length(source) BETWEEN 1 AND 255),
  subject      text        CHECK (char_length(subject) <= 255),
  occurred_at  timestamptz NOT NULL,
  value        numeric     NOT NULL,
  unique_key   text        CHECK (char_length(unique_key) <= 255),
  data         jsonb,
  received_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT usage_events_pkey PRIMARY KEY (tenant_id, id)
);
CREATE INDEX usage_events_tenant_meter_time ON usage_events (tenant_id, meter, occurred_at);

-- Per meter and hour/day/month (UTC), maintained in the same transaction as the events they
-- count: every aggregation's state, so any meter's value is one column of one row.
CREATE TABLE usage_rollups (
  tenant_id     uuid        NOT NULL,
  id            uuid        NOT NULL,
  meter         text        NOT NULL,
  granularity   text        NOT NULL CHECK (granularity IN ('hour', 'day', 'month')),
  period_start  timestamptz NOT NULL,
  event_count   bigint      NOT NULL CHECK (event_count >= 0),
  value_sum     numeric     NOT NULL,
  value_max     numeric,
  unique_count  bigint      NOT NULL CHECK (unique_count >= 0),
  latest_value  numeric,
  latest_at     timestamptz,
  latest_event  uuid,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT usage_rollups_pkey PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX usage_rollups_tenant_meter_period ON usage_rollups (tenant_id, meter, granularity, period_start);

-- The distinct property values seen per unique-count rollup.
CREATE TABLE usage_unique_values (
  tenant_id  uuid NOT NULL,
  id         uuid NOT NULL,
  CONSTRAINT usage_unique_values_pkey PRIMARY KEY (tenant_id, id)
);

-- A quota crossing 80% or 100% within one period: at most one row per threshold and period.
CREATE TABLE usage_quota_alerts (
  tenant_id     uuid        NOT NULL,
  id            uuid        NOT NULL,
  meter         text        NOT NULL,
  period_start  timestamptz NOT NULL,
  threshold     integer     NOT NULL CHECK (threshold IN (80, 100)),
  quota_limit   numeric     NOT NULL,
  used          numeric     NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT usage_quota_alerts_pkey PRIMARY KEY (tenant_id, id)
);

-- Events the billing sender has handed to the billing provider: `id` is the event's row id.
CREATE TABLE usage_billing_sends (
  tenant_id  uuid        NOT NULL,
  id         uuid        NOT NULL,
  period     text        NOT NULL CHECK (period ~ '^\d{4}-\d{2}$'),
  sent_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT usage_billing_sends_pkey PRIMARY KEY (tenant_id, id)
);
CREATE INDEX usage_billing_sends_tenant_period ON usage_billing_sends (tenant_id, period);

-- The last reconciliation of a meter for a billing period: drift blocks the period's export
-- until an operator acknowledges it.
CREATE TABLE usage_reconciliations (
  tenant_id        uuid        NOT NULL,
  id               uuid        NOT NULL,
  period           text        NOT NULL CHECK (period ~ '^\d{4}-\d{2}$'),
  meter            text        NOT NULL,
  source_total     numeric,
  log_total        numeric     NOT NULL,
  rollup_total     numeric     NOT NULL,
  status           text        NOT NULL CHECK (status IN ('ok', 'drift', 'acknowledged')),
  checked_at       timestamptz NOT NULL DEFAULT now(),
  acknowledged_at  timestamptz,
  acknowledged_by  text        CHECK (char_length(acknowledged_by) <= 255),
  note             text        CHECK (char_length(note) <= 1000),
  CONSTRAINT usage_reconciliations_pkey PRIMARY KEY (tenant_id, id)
);

SELECT bulkhead_protect_tenant_table('usage_events');
SELECT bulkhead_protect_tenant_table('usage_rollups');
SELECT bulkhead_protect_tenant_table('usage_unique_values');
SELECT bulkhead_protect_tenant_table('usage_quota_alerts');
SELECT bulkhead_protect_tenant_table('usage_billing_sends');
SELECT bulkhead_protect_tenant_table('usage_reconciliations');

-- The log, its unique values, alerts and sends are append-only for the runtime role.
GRANT SELECT, INSERT ON usage_events, usage_unique_values, usage_quota_alerts, usage_billing_sends TO :runtime_role;
GRANT SELECT, INSERT, UPDATE ON usage_rollups, usage_reconciliations TO :runtime_role;

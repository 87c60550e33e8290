-- Feature flags: control-plane catalogue, not tenant data (no RLS). Read whole into every
-- instance's memory; written only through the operator API.
CREATE TABLE feature_flags (
  id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  key             text        NOT NULL UNIQUE CHECK (key ~ '^[a-z][a-z0-9._-]{0,63}$'),
  description     text        NOT NULL DEFAULT '' CHECK (char_length(description) <= 500),
  default_value   jsonb       NOT NULL,
  -- {"free": true, "pro": ...}: a tier's value, over the default and the rollout.
  tier_values     jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(tier_values) = 'object'),
  -- Tenants whose hash bucket (0-99, of the flag key and tenant id) is below this get the
  -- opposite of the default (for boolean flags); null: no rollout.
  rollout_percent integer     CHECK (rollout_percent BETWEEN 0 AND 100),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE feature_flag_overrides (
  flag_id    uuid        NOT NULL REFERENCES feature_flags (id) ON DELETE CASCADE,
  -- Not `tenant_id`: that name marks tenant data (RLS, the doctor, the query audit); this is the catalogue.
  tenant     uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  value      jsonb       NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (flag_id, tenant)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON feature_flags, feature_flag_overrides TO :runtime_role;

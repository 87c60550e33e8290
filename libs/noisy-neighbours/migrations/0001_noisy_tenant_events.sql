-- Noisy-neighbour findings: control-plane catalogue, not tenant data. One row per tenant flagged
-- or cleared by the detector, kept for the operators' history.
CREATE TABLE noisy_tenant_events (
  id         uuid             PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Not `tenant_id`: that name marks tenant data (RLS, the doctor, the query audit); this is the catalogue.
  tenant     uuid             NOT NULL,
  event      text             NOT NULL CHECK (event IN ('flagged', 'cleared')),
  -- The minute (UTC) whose usage decided it.
  minute     timestamptz      NOT NULL,
  -- The measures above NOISY_RATIO x median then: [{"measure", "value", "median", "ratio"}].
  findings   jsonb            NOT NULL DEFAULT '[]'::jsonb,
  created_at timestamptz      NOT NULL DEFAULT now(),
  UNIQUE (tenant, minute, event)
);

CREATE INDEX noisy_tenant_events_created_idx ON noisy_tenant_events (created_at DESC, id);

GRANT SELECT, INSERT ON noisy_tenant_events TO :runtime_role;

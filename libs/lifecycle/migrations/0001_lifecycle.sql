-- Control plane: the tenant lifecycle. Platform data (no tenant context, no RLS), in the control
-- plane's database only; written by the API (starting a saga) and the worker (running it).

-- Its columns name the tenant `tenant`, never `tenant_id`: a `tenant_id` column marks a tenant table (RLS, the doctor, erasure).
-- One saga per run of a tenant's onboarding or offboarding: what was asked, where it stands.
CREATE TABLE lifecycle_sagas (
  id             uuid        PRIMARY KEY,
  tenant      uuid        NOT NULL,
  kind           text        NOT NULL CHECK (kind IN ('onboarding', 'offboarding', 'restore')),
  status         text        NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'compensating', 'aborted')),
  -- What started it: the creation request (slug, tier, placement chosen) or the offboarding options.
  request        jsonb       NOT NULL,
  -- `signup:<Idempotency-Key>`: a repeated submit finds the saga it started.
  request_key    text        UNIQUE CHECK (char_length(request_key) <= 300),
  request_digest text,
  started_by     text        NOT NULL,
  reason         text,
  -- An operator asked to abort: compensations run and the saga ends `aborted` rather than `failed`.
  abort_requested boolean NOT NULL DEFAULT false,
  -- A run holds the saga until lease_until; a killed runner's lease runs out and the next run takes over.
  lease_owner    text,
  lease_until    timestamptz,
  runs           integer     NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz
);
CREATE INDEX lifecycle_sagas_tenant_idx ON lifecycle_sagas (tenant, created_at);
CREATE INDEX lifecycle_sagas_running_idx ON lifecycle_sagas (updated_at) WHERE status IN ('running', 'compensating');
-- At most one saga of a tenant at work at once.
CREATE UNIQUE INDEX lifecycle_sagas_one_running ON lifecycle_sagas (tenant) WHERE status IN ('running', 'compensating');

-- The ledger: one row per step of a saga, in order.
CREATE TABLE lifecycle_steps (
  saga_id      uuid        NOT NULL REFERENCES lifecycle_sagas (id),
  position     integer     NOT NULL,
  step         text        NOT NULL CHECK (step ~ '^[a-z][a-z_]{1,40}$'),
  status       text        NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'compensated')),
  -- Runs started (a killed run counts) and real failures (an unreachable database does not count).
  attempts     integer     NOT NULL DEFAULT 0,
  failures     integer     NOT NULL DEFAULT 0,
  last_error   text,
  -- What the step found or decided (claimed warm storage, host name, counts), for status and compensation.
  details      jsonb       NOT NULL DEFAULT '{}',
  started_at   timestamptz,
  finished_at  timestamptz,
  PRIMARY KEY (saga_id, position),
  UNIQUE (saga_id, step)
);

-- The warm pool: schemas and silo databases created and migrated ahead of demand. A claim is a
-- conditional UPDATE (ready -> claimed); the claimant renames it to its tenant's name.
CREATE TABLE lifecycle_warm_storage (
  id            uuid        PRIMARY KEY,
  cluster       text        NOT NULL CHECK (cluster ~ '^[a-z0-9_-]{1,32}$'),
  model         text        NOT NULL CHECK (model IN ('schema', 'silo')),
  name          text        NOT NULL UNIQUE CHECK (name ~ '^t_[0-9a-f]{32}$' OR name ~ '^[a-z_][a-z0-9_]{0,20}_t_[0-9a-f]{32}$'),
  status        text        NOT NULL CHECK (status IN ('creating', 'ready', 'claimed', 'discarding')),
  data_version  integer     NOT NULL DEFAULT 0,
  claimed_by    uuid        UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lifecycle_warm_storage_ready_idx ON lifecycle_warm_storage (cluster, model, data_version, created_at) WHERE status = 'ready';

-- Host names registered by the default DNS step (`<slug>.<TENANT_BASE_DOMAIN>`).
CREATE TABLE lifecycle_hosts (
  host        text        PRIMARY KEY CHECK (char_length(host) <= 253),
  tenant   uuid        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lifecycle_hosts_tenant_idx ON lifecycle_hosts (tenant);

-- Lifecycle events (tenant.activated, tenant.erased, ...) written with the step that causes them
-- and delivered at least once by the worker; consumers dedupe by id.
CREATE TABLE lifecycle_outbox (
  id            uuid        PRIMARY KEY,
  tenant     uuid        NOT NULL,
  type          text        NOT NULL,
  payload       jsonb       NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  delivered_at  timestamptz
);
CREATE INDEX lifecycle_outbox_pending_idx ON lifecycle_outbox (created_at) WHERE delivered_at IS NULL;

-- Offboarding: the export archive of each offboarded tenant (operators only) and the erasure
-- certificate. Neither holds personal data beyond what the archive itself carries.
CREATE TABLE lifecycle_archives (
  tenant    uuid        NOT NULL,
  saga_id      uuid        NOT NULL REFERENCES lifecycle_sagas (id),
  manifest     jsonb       NOT NULL,
  content      bytea       NOT NULL,
  sha256       text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- The archive is kept through the grace period; erasure keeps only its digest (in the certificate).
  erased_at    timestamptz,
  PRIMARY KEY (tenant, saga_id)
);

CREATE TABLE lifecycle_certificates (
  tenant    uuid        PRIMARY KEY,
  saga_id      uuid        NOT NULL REFERENCES lifecycle_sagas (id),
  certificate  jsonb       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE ON lifecycle_sagas, lifecycle_steps, lifecycle_warm_storage, lifecycle_outbox, lifecycle_archives, lifecycle_certificates TO :runtime_role;
GRANT SELECT, INSERT, DELETE ON lifecycle_hosts TO :runtime_role;
GRANT DELETE ON lifecycle_warm_storage TO :runtime_role;

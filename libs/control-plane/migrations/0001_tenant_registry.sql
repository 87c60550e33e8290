-- bulkhead:legacy control 1
-- Control plane: the tenant registry. Not tenant data: no RLS, read by the guard on every
-- cache miss, written only through the operator API and CLI.
CREATE TABLE tenants (
  id          uuid        PRIMARY KEY,
  slug        text        NOT NULL UNIQUE
                          CHECK (slug ~ '^[a-z][a-z0-9-]{1,38}[a-z0-9]$' AND slug NOT LIKE '%--%'),
  name        text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  tier        text        NOT NULL CHECK (tier IN ('free', 'pro', 'enterprise')),
  isolation   text        NOT NULL CHECK (isolation IN ('pool', 'schema', 'silo')),
  status      text        NOT NULL CHECK (status IN ('provisioning', 'active', 'suspended', 'deleted')),
  region      text        NOT NULL CHECK (region ~ '^[a-z0-9-]{2,32}$'),
  external_ref text       UNIQUE CHECK (char_length(external_ref) BETWEEN 1 AND 200),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX tenants_status_idx ON tenants (status);

GRANT SELECT, INSERT, UPDATE ON tenants TO :runtime_role;

-- The stored responses of POSTs sent with an Idempotency-Key: one row per (tenant, key), written
-- in the same transaction as the request's own writes, so a row exists exactly when they
-- committed. `id` is derived from the key (every tenant table is keyed (tenant_id, id)); the key
-- itself is kept to tell a hash collision from a reuse. Applies to the pool, every schema and
-- every silo, before any domain's tables.

CREATE TABLE idempotency_keys (
  tenant_id    uuid        NOT NULL,
  id           uuid        NOT NULL,
  key          text        NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
  fingerprint  text        NOT NULL CHECK (char_length(fingerprint) = 64),
  method       text        NOT NULL,
  path         text        NOT NULL,
  status       integer     NOT NULL CHECK (status BETWEEN 200 AND 299),
  headers      jsonb       NOT NULL DEFAULT '{}',
  body         jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  CONSTRAINT idempotency_keys_pkey PRIMARY KEY (tenant_id, id)
);

-- The sweep deletes a tenant's expired keys.
CREATE INDEX idempotency_keys_tenant_expiry ON idempotency_keys (tenant_id, expires_at);

SELECT bulkhead_protect_tenant_table('idempotency_keys');

GRANT SELECT, INSERT, DELETE ON idempotency_keys TO :runtime_role;

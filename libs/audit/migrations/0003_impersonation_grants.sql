-- Impersonation grants are signed and short-lived, but a signature alone cannot be withdrawn: an
-- operator who leaves, or a grant issued by mistake, must stop working at once on every instance.
-- Each grant is also a row in its tenant's placement, written in the same transaction as the
-- tenant's `impersonation.grant` entry; a use is admitted only while its row exists unrevoked.
-- The tenant's own data (RLS), so erasure takes it and a move carries it.
CREATE TABLE audit_impersonation_grants (
  tenant_id   uuid        NOT NULL,
  id          uuid        NOT NULL,
  operator    text        NOT NULL CHECK (char_length(operator) <= 300),
  mode        text        NOT NULL CHECK (mode IN ('read', 'write')),
  issued_at   timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz,
  revoked_by  text        CHECK (char_length(revoked_by) <= 300),
  CONSTRAINT audit_impersonation_grants_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT audit_impersonation_grants_revoked CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
SELECT bulkhead_protect_tenant_table('audit_impersonation_grants');
-- A revocation is the only change: who and when, once.
GRANT SELECT, INSERT ON audit_impersonation_grants TO :runtime_role;
GRANT UPDATE (revoked_at, revoked_by) ON audit_impersonation_grants TO :runtime_role;

-- The harness's own table for the tenants it provisions (schemas and silos): the columns its
-- `Account` entity maps, under the same name the sales domain gives them in the shared pool.
CREATE TABLE customers (
  tenant_id   uuid        NOT NULL,
  id          uuid        NOT NULL,
  email       text        NOT NULL,
  name        text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT customers_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT customers_tenant_email_key UNIQUE (tenant_id, email)
);

SELECT bulkhead_protect_tenant_table('customers');

GRANT SELECT, INSERT, UPDATE, DELETE ON customers TO :runtime_role;

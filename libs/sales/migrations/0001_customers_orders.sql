-- bulkhead:legacy tenant 1
-- The sales domain's tables. Written unqualified so the same file applies to the pool (public
-- schema), to a tenant's own schema (search_path) and to a silo database; the platform's
-- bulkhead_protect_tenant_table is already there.

CREATE TABLE customers (
  tenant_id   uuid        NOT NULL,
  id          uuid        NOT NULL,
  email       text        NOT NULL CHECK (char_length(email) <= 254),
  name        text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT customers_pkey PRIMARY KEY (tenant_id, id),
  -- Unique checks bypass RLS, so uniqueness is only ever per tenant.
  CONSTRAINT customers_tenant_email_key UNIQUE (tenant_id, email)
);

CREATE TABLE orders (
  tenant_id    uuid        NOT NULL,
  id           uuid        NOT NULL,
  customer_id  uuid        NOT NULL,
  status       text        NOT NULL CHECK (status IN ('pending', 'paid', 'shipped', 'cancelled')),
  total_cents  bigint      NOT NULL CHECK (total_cents >= 0),
  currency     char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  note         text        CHECK (char_length(note) <= 2000),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT orders_pkey PRIMARY KEY (tenant_id, id),
  -- Composite: an order can only ever point at a customer of its own tenant.
  CONSTRAINT orders_customer_fkey FOREIGN KEY (tenant_id, customer_id)
    REFERENCES customers (tenant_id, id) ON DELETE RESTRICT
);

CREATE INDEX orders_tenant_customer_idx ON orders (tenant_id, customer_id, id);

SELECT bulkhead_protect_tenant_table('customers');
SELECT bulkhead_protect_tenant_table('orders');

GRANT SELECT, INSERT, UPDATE, DELETE ON customers, orders TO :runtime_role;

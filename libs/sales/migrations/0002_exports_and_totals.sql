-- bulkhead:legacy tenant 2
-- Results of background jobs, kept as tenant data so the tenant fetches them through the API.

CREATE TABLE order_exports (
  tenant_id     uuid        NOT NULL,
  id            uuid        NOT NULL,
  status        text        NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
  requested_by  text        NOT NULL CHECK (char_length(requested_by) <= 255),
  row_count     integer,
  content       text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  completed_at  timestamptz,
  CONSTRAINT order_exports_pkey PRIMARY KEY (tenant_id, id)
);

-- One row per customer with orders; `id` is the customer's id.
CREATE TABLE customer_order_totals (
  tenant_id        uuid        NOT NULL,
  id               uuid        NOT NULL,
  order_count      integer     NOT NULL CHECK (order_count >= 0),
  total_cents      bigint      NOT NULL CHECK (total_cents >= 0),
  recalculated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT customer_order_totals_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT customer_order_totals_customer_fkey FOREIGN KEY (tenant_id, id)
    REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);

SELECT bulkhead_protect_tenant_table('order_exports');
SELECT bulkhead_protect_tenant_table('customer_order_totals');

GRANT SELECT, INSERT, UPDATE, DELETE ON order_exports, customer_order_totals TO :runtime_role;

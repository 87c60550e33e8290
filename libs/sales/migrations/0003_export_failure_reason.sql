-- bulkhead:equivalent-to 57d1586c00552296ce58c67cf07fc1389ebe1abd3079b419eda071fc0fd5b6f5
-- Why an export failed for good, in words the tenant may read (never the internal error), so a
-- failed export says so instead of staying pending.
-- The check constraint is named (with the name PostgreSQL gave it before: the line above claims
-- that earlier text as equivalent) because Citus refuses unnamed constraints in ADD COLUMN on a
-- distributed table.
ALTER TABLE order_exports ADD COLUMN failure_reason text
  CONSTRAINT order_exports_failure_reason_check CHECK (char_length(failure_reason) <= 500);

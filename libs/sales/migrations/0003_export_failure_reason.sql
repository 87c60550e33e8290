-- Why an export failed for good, in words the tenant may read (never the internal error), so a
-- failed export says so instead of staying pending.
ALTER TABLE order_exports ADD COLUMN failure_reason text CHECK (char_length(failure_reason) <= 500);

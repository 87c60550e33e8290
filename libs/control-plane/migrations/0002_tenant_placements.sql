-- bulkhead:legacy control 2
-- Where each tenant's data lives. A tenant is placed once, at creation, on a cluster of its own
-- region; names are derived from its id (never from input) and checked here as well.
ALTER TABLE tenants
  ADD COLUMN cluster       text,
  ADD COLUMN schema_name   text,
  ADD COLUMN database_name text,
  -- The tenant data-set version its placement carries, for fleet reports; the ledger that makes
  -- migrations idempotent lives beside the data it describes.
  ADD COLUMN data_version  integer NOT NULL DEFAULT 0;

UPDATE tenants SET cluster = 'main' WHERE cluster IS NULL;
ALTER TABLE tenants ALTER COLUMN cluster SET NOT NULL;

ALTER TABLE tenants ADD CONSTRAINT tenants_cluster_check CHECK (cluster ~ '^[a-z0-9_-]{1,32}$');
ALTER TABLE tenants ADD CONSTRAINT tenants_placement_check CHECK (
  (isolation = 'pool'   AND schema_name IS NULL AND database_name IS NULL) OR
  (isolation = 'schema' AND schema_name ~ '^t_[0-9a-f]{32}$' AND database_name IS NULL) OR
  (isolation = 'silo'   AND schema_name IS NULL AND database_name ~ '^[a-z_][a-z0-9_]{0,20}_t_[0-9a-f]{32}$')
);
CREATE UNIQUE INDEX tenants_schema_name_key ON tenants (schema_name) WHERE schema_name IS NOT NULL;
CREATE UNIQUE INDEX tenants_database_name_key ON tenants (database_name) WHERE database_name IS NOT NULL;
CREATE INDEX tenants_isolation_idx ON tenants (isolation, cluster);


-- The change feed's poll (TenantChangeFeed) finds the tenants changed since its last look by
-- updated_at: what pub/sub missed reaches every instance that way. So every insert and update sets it,
-- whoever writes it (an operator's own SQL included), to the statement's clock rather than the
-- transaction's start: the poll allows for a commit that comes a while after its update, not for
-- one that comes minutes later.
CREATE INDEX tenants_updated_at_idx ON tenants (updated_at);

CREATE FUNCTION bulkhead_tenants_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := clock_timestamp();
  RETURN NEW;
END
$$;

CREATE TRIGGER tenants_touch BEFORE INSERT OR UPDATE ON tenants
  FOR EACH ROW EXECUTE FUNCTION bulkhead_tenants_touch();

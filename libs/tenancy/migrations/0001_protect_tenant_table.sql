-- bulkhead:legacy tenant 1
-- Part of every tenant data set (the pool, each tenant schema, each silo), applied before any
-- domain's migrations, so every domain can protect its tables with one call.

-- Applies the whole boundary to one tenant table: RLS enabled and forced (so even the owner is
-- bound), and one policy per command. The setting is read in a sub-select so the planner
-- evaluates it once per statement, and through nullif so an empty string left behind by an
-- earlier SET LOCAL on the same backend reads as "no tenant" (zero rows, writes refused).
CREATE OR REPLACE FUNCTION bulkhead_protect_tenant_table(target regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  predicate constant text := 'tenant_id = (SELECT nullif(current_setting(''app.tenant_id'', true), '''')::uuid)';
  base text := replace(target::text, '.', '_');
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', target);
  EXECUTE format('CREATE POLICY %I ON %s FOR SELECT USING (%s)', base || '_tenant_select', target, predicate);
  EXECUTE format('CREATE POLICY %I ON %s FOR INSERT WITH CHECK (%s)', base || '_tenant_insert', target, predicate);
  EXECUTE format('CREATE POLICY %I ON %s FOR UPDATE USING (%s) WITH CHECK (%s)', base || '_tenant_update', target, predicate, predicate);
  EXECUTE format('CREATE POLICY %I ON %s FOR DELETE USING (%s)', base || '_tenant_delete', target, predicate);
END;
$$;
REVOKE ALL ON FUNCTION bulkhead_protect_tenant_table(regclass) FROM PUBLIC;

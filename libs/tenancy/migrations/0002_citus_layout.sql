-- The tenant boundary on a Citus coordinator as well as on plain PostgreSQL. On plain PostgreSQL
-- nothing changes: the same policies as 0001, and two functions nothing calls. On Citus (the
-- `citus` extension is installed in this database):
-- - a tenant table of the pool (the public schema) is distributed by tenant_id, colocated with
--   every other tenant table, unless the migration's owner keeps its tables on the coordinator
--   (`bulkhead.citus_tables`, set by the migration runner); a schema tenant's tables stay where
--   Citus put them (plain tables on the coordinator, or one shard with schema-based sharding);
-- - the policies read the setting directly: Citus refuses sub-selects in policies on distributed
--   tables ("Subqueries are not supported in policies on distributed tables");
-- - a transaction sets its tenant with bulkhead_set_tenant, whose SET LOCAL Citus carries to the
--   workers (with citus.propagate_set_commands = 'local' for the runtime role, set by bootstrap);
--   set_config(..., true) never reaches them.

CREATE OR REPLACE FUNCTION bulkhead_protect_tenant_table(target regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  citus constant boolean := EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus');
  -- Plain PostgreSQL: a sub-select, evaluated once per statement (as 0001). Citus: the setting
  -- itself, a stable expression, evaluated on the shard where the row is.
  predicate constant text := CASE WHEN citus
    THEN 'tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid'
    ELSE 'tenant_id = (SELECT nullif(current_setting(''app.tenant_id'', true), '''')::uuid)' END;
  base text := replace(target::text, '.', '_');
  in_pool constant boolean := (SELECT n.nspname = 'public' FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target);
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', target);
  EXECUTE format('CREATE POLICY %I ON %s FOR SELECT USING (%s)', base || '_tenant_select', target, predicate);
  EXECUTE format('CREATE POLICY %I ON %s FOR INSERT WITH CHECK (%s)', base || '_tenant_insert', target, predicate);
  EXECUTE format('CREATE POLICY %I ON %s FOR UPDATE USING (%s) WITH CHECK (%s)', base || '_tenant_update', target, predicate, predicate);
  EXECUTE format('CREATE POLICY %I ON %s FOR DELETE USING (%s)', base || '_tenant_delete', target, predicate);
  IF citus AND in_pool AND coalesce(current_setting('bulkhead.citus_tables', true), '') <> 'coordinator' THEN
    -- Shards are created over one connection per worker, so later DDL in this same migration
    -- transaction (grants, the next table) can reach them.
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    PERFORM create_distributed_table(target, 'tenant_id', colocate_with => 'default');
  END IF;
END;
$$;
REVOKE ALL ON FUNCTION bulkhead_protect_tenant_table(regclass) FROM PUBLIC;

-- A lookup table every tenant reads (currencies, plans): no tenant_id, no RLS. On a Citus pool it
-- becomes a reference table (a copy on every node), so tenant tables join it on their shard.
CREATE OR REPLACE FUNCTION bulkhead_share_lookup_table(target regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = target AND attname = 'tenant_id' AND NOT attisdropped) THEN
    RAISE EXCEPTION '% has a tenant_id column: protect it with bulkhead_protect_tenant_table instead', target USING ERRCODE = '42P16';
  END IF;
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')
     AND (SELECT n.nspname = 'public' FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target) THEN
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    PERFORM create_reference_table(target);
  END IF;
END;
$$;
REVOKE ALL ON FUNCTION bulkhead_share_lookup_table(regclass) FROM PUBLIC;

-- Sets the transaction's tenant on a Citus coordinator and, through Citus, on every worker the
-- transaction reaches. EXECUTE, not a literal SET LOCAL in the caller's message: Citus forwards a
-- multi-statement message whole to the shards, and a SET in it breaks the forwarded text.
CREATE OR REPLACE FUNCTION bulkhead_set_tenant(tenant uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('SET LOCAL app.tenant_id = %L', tenant);
END;
$$;
REVOKE ALL ON FUNCTION bulkhead_set_tenant(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bulkhead_set_tenant(uuid) TO :runtime_role;

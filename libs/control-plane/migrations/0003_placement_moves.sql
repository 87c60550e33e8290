-- Placements change: a tenant may move between pool, schema and silo and between clusters
-- (@bulkhead/tenant-moves). Every switch bumps the placement version, announced on the change
-- feed, so an instance can tell an outdated cached placement from the current one.
ALTER TABLE tenants ADD COLUMN placement_version integer NOT NULL DEFAULT 1 CHECK (placement_version >= 1);

-- One row per move, driven by the mover through its phases; the whole state needed to resume
-- after a crash at any phase lives here (and, for the capture, beside the source data).
CREATE TABLE tenant_moves (
  id              uuid        PRIMARY KEY,
  -- Not `tenant_id`: this is platform data, not a tenant table (the doctor and the mover look for that column).
  tenant          uuid        NOT NULL REFERENCES tenants (id),
  phase           text        NOT NULL CHECK (phase IN ('preparing', 'copying', 'catching_up', 'switching', 'switched', 'dropping', 'done', 'aborting', 'aborted', 'failed')),
  -- {"isolation", "cluster", "schemaName", "databaseName"} of each side.
  source          jsonb       NOT NULL,
  target          jsonb       NOT NULL,
  -- The tenant's placement_version the move started from: the switch applies only on top of it.
  source_version  integer     NOT NULL,
  abort_requested boolean     NOT NULL DEFAULT false,
  error           text,
  progress        jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  switched_at     timestamptz,
  finished_at     timestamptz
);
-- At most one unfinished move per tenant.
CREATE UNIQUE INDEX tenant_moves_unfinished ON tenant_moves (tenant) WHERE phase NOT IN ('done', 'aborted');
CREATE INDEX tenant_moves_tenant ON tenant_moves (tenant, created_at);

-- Refuses (SQLSTATE BHM01) a write whose unit of work started on a placement the tenant has since
-- left: sent in the COMMIT message of writes in this database (pool and schema tenants of cluster
-- main), so a unit of work that outlived a move's grace period re-runs on the new placement
-- instead of writing into shared tables nobody reads for that tenant any more.
CREATE FUNCTION bulkhead_assert_placement(target uuid, expected integer) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM public.tenants WHERE id = target AND placement_version = expected) THEN
    RAISE EXCEPTION 'tenant % has moved to another placement', target USING ERRCODE = 'BHM01';
  END IF;
END;
$$;
REVOKE ALL ON FUNCTION bulkhead_assert_placement(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bulkhead_assert_placement(uuid, integer) TO :runtime_role;

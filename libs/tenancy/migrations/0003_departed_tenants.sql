-- A cluster's shared database remembers the pool tenants that moved away from it: the mover
-- records one when it drops the tenant's rows there, and forgets it when the tenant comes back.
-- A unit of work that started before such a move and outlived its grace period is refused
-- (BHM01) in its COMMIT message instead of writing rows that nobody reads for that tenant any
-- more; @bulkhead/tenancy then runs it again where the tenant lives now. Cluster main asks its
-- registry instead (bulkhead_assert_placement, control plane). The tenant set is one for every
-- placement, so each schema and silo holds an unused copy.
CREATE TABLE bulkhead_departures (
  tenant            uuid    PRIMARY KEY,
  -- The placement version the tenant left with: units of work that started before it are refused.
  placement_version integer NOT NULL
);
REVOKE ALL ON bulkhead_departures FROM PUBLIC;

-- SECURITY DEFINER so the runtime role can ask about one tenant without reading the list.
CREATE FUNCTION bulkhead_assert_present(target uuid, expected integer) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM public.bulkhead_departures WHERE tenant = target AND placement_version > expected) THEN
    RAISE EXCEPTION 'tenant % has moved to another placement', target USING ERRCODE = 'BHM01';
  END IF;
END;
$$;
REVOKE ALL ON FUNCTION bulkhead_assert_present(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bulkhead_assert_present(uuid, integer) TO :runtime_role;

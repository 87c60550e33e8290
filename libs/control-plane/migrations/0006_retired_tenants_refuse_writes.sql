-- A retired tenant's unit of work still running (a job started before its offboarding's fence)
-- must not commit into the shared pool after the erasure took its rows: the erasure certificate
-- would call the tenant erased while that row survives. Refused as a placement the tenant left
-- (BHM01); the unit finds no active tenant to follow and fails.
CREATE OR REPLACE FUNCTION bulkhead_assert_placement(target uuid, expected integer) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM public.tenants WHERE id = target AND placement_version = expected AND status <> 'deleted') THEN
    RAISE EXCEPTION 'tenant % has moved to another placement', target USING ERRCODE = 'BHM01';
  END IF;
END;
$$;

-- Chains several pool tenants' pending entries in one call. A chaining round used to be one
-- transaction per tenant (two round trips, a commit, a pool connection each): with many busy
-- tenants the rounds' fixed cost, not the entries, was most of the trail's price after the write.
-- The chainer now sends one transaction per shared pool per round, whose COMMIT message carries
-- each tenant's placement check and this call.
--
-- Each tenant is chained under its own transaction-local tenant setting, as audit_chain_pending
-- always was (RLS is forced on the owner too, so nothing of another tenant is in reach while a
-- tenant is being chained), and the caller's setting is put back at the end. Heads are locked in
-- uuid order, so two rounds over overlapping sets of tenants cannot deadlock. One failure fails
-- the whole call (no subtransaction per tenant): the chainer then chains those tenants one by one.
-- It gives the runtime role nothing it lacked: it could already set any tenant and chain it.
CREATE FUNCTION audit_chain_pending_many(targets uuid[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  caller  text := current_setting('app.tenant_id', true);
  target  uuid;
  chained integer := 0;
BEGIN
  IF cardinality(targets) > 1000 THEN
    RAISE EXCEPTION 'at most 1000 tenants are chained in one call' USING ERRCODE = '22023';
  END IF;
  FOR target IN SELECT DISTINCT t FROM unnest(targets) AS t WHERE t IS NOT NULL ORDER BY t LOOP
    PERFORM set_config('app.tenant_id', target::text, true);
    PERFORM audit_chain_pending(target);
    chained := chained + 1;
  END LOOP;
  PERFORM set_config('app.tenant_id', coalesce(caller, ''), true);
  RETURN chained;
END;
$$;
REVOKE ALL ON FUNCTION audit_chain_pending_many(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_chain_pending_many(uuid[]) TO :runtime_role;

-- An entry used to go in as a literal INSERT in its write's COMMIT message, and its pending mark
-- by a statement trigger (with a transition table) on that INSERT. Measured with one client on
-- the bench database (pgbench), that INSERT took 141-148 us per statement, round trip included;
-- this call 119-126 us. Planning a literal-only statement on every write (it has no kept plan)
-- and the trigger's call were the difference.
--
-- Entries now go in through audit_append: a function whose two INSERTs are planned once per
-- session, and which marks each entry pending itself. It is the runtime role's only way to add
-- an entry (INSERT on audit_entries is revoked), so no entry the application writes can skip its
-- mark. An entry inserted by any other role (the owner, a superuser) gets no mark and no link:
-- `audit verify` reports it, as it reports every entry neither linked nor pending. RLS (forced,
-- also on this function's owner) still decides what may be written: only the transaction's tenant.
-- One call per entry (a COMMIT message with several entries calls it once for each, in one
-- SELECT): scalar arguments, because unnesting arrays of them cost as much as it saved.
CREATE FUNCTION audit_append(target uuid, entry_id uuid, at timestamptz, entry_action text, entry_outcome text, entry_actor_kind text, entry_request_id text, body text, sealed bytea)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO audit_entries (tenant_id, id, occurred_at, action, outcome, actor_kind, request_id, entry, pii)
    VALUES (target, entry_id, at, entry_action, entry_outcome, entry_actor_kind, entry_request_id, body, sealed);
  INSERT INTO audit_pending (tenant_id, id) VALUES (target, entry_id);
END;
$$;
REVOKE ALL ON FUNCTION audit_append(uuid, uuid, timestamptz, text, text, text, text, text, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_append(uuid, uuid, timestamptz, text, text, text, text, text, bytea) TO :runtime_role;

REVOKE INSERT ON audit_entries FROM :runtime_role;
DROP TRIGGER audit_entries_mark_pending ON audit_entries;
DROP FUNCTION audit_mark_pending();

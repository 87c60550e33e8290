-- An entry used to go in as a literal INSERT in its write's COMMIT message, and its pending mark
-- by a statement trigger (with a transition table) on that INSERT. Measured with one client on
-- the bench database, that INSERT cost PostgreSQL ~85 us beyond the round trip: planning it on
-- every write (a literal-only statement has no kept plan) and the trigger's call were ~23 us of
-- it, and the INSERT the largest part of the trail's cost on the write route.
--
-- Entries now go in through audit_append: one call, whose two INSERTs are planned once per
-- session, and which marks each entry pending itself. It is the runtime role's only way to add
-- an entry (INSERT on audit_entries is revoked), so no entry the application writes can skip its
-- mark. An entry inserted by any other role (the owner, a superuser) gets no mark and no link:
-- `audit verify` reports it, as it reports every entry neither linked nor pending. RLS (forced,
-- also on this function's owner) still decides what may be written: only the transaction's tenant.
CREATE FUNCTION audit_append(target uuid, ids uuid[], occurred timestamptz[], actions text[], outcomes text[], actor_kinds text[], request_ids text[], entries text[], piis bytea[])
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO audit_entries (tenant_id, id, occurred_at, action, outcome, actor_kind, request_id, entry, pii)
    SELECT target, e.id, e.occurred_at, e.action, e.outcome, e.actor_kind, e.request_id, e.entry, e.pii
      FROM unnest(ids, occurred, actions, outcomes, actor_kinds, request_ids, entries, piis) AS e(id, occurred_at, action, outcome, actor_kind, request_id, entry, pii);
  INSERT INTO audit_pending (tenant_id, id) SELECT target, i FROM unnest(ids) AS i;
END;
$$;
REVOKE ALL ON FUNCTION audit_append(uuid, uuid[], timestamptz[], text[], text[], text[], text[], text[], bytea[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_append(uuid, uuid[], timestamptz[], text[], text[], text[], text[], text[], bytea[]) TO :runtime_role;

REVOKE INSERT ON audit_entries FROM :runtime_role;
DROP TRIGGER audit_entries_mark_pending ON audit_entries;
DROP FUNCTION audit_mark_pending();

-- Entries are written once and never rewritten. Chaining used to UPDATE each pending entry with
-- its seq and hashes: a second version of a ~1 KB row, new entries in its four indexes and the
-- whole row again in the WAL, for every audited write (the measured cost of the trail on the write
-- route). The chain now lives in a narrow side table, `audit_links` (the entry's id, its place and
-- its hash), and a write marks its entry pending in `audit_pending` (a trigger, so no entry can
-- skip it); chaining takes the marks and inserts the links. The wide table keeps only its primary
-- key: ids are uuid v7 (time-ordered), so time filters use it and the time index goes.

-- One row per linked entry: hash = sha256(prev_hash || int8(seq) || sha256(int4(len(entry)) ||
-- entry || pii)) over the entry `id` names, exactly as before. `id` is the entry's id, so the row
-- reads like every tenant row ((tenant_id, id)) and an entry can be linked only once.
CREATE TABLE audit_links (
  tenant_id  uuid   NOT NULL,
  id         uuid   NOT NULL,
  seq        bigint NOT NULL CHECK (seq >= 1),
  prev_hash  bytea  NOT NULL CHECK (octet_length(prev_hash) = 32),
  hash       bytea  NOT NULL CHECK (octet_length(hash) = 32),
  CONSTRAINT audit_links_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT audit_links_seq UNIQUE (tenant_id, seq)
);

-- Entries committed and not linked yet: the chainer's queue, written by the insert trigger of
-- audit_entries in the entry's own transaction, emptied by audit_chain_pending.
CREATE TABLE audit_pending (
  tenant_id  uuid NOT NULL,
  id         uuid NOT NULL,
  CONSTRAINT audit_pending_pkey PRIMARY KEY (tenant_id, id)
);

-- What was chained and pending so far moves over as it is. RLS is forced on the owner too: lifted
-- on audit_entries for this copy only, inside this transaction (the new tables get theirs below).
ALTER TABLE audit_entries NO FORCE ROW LEVEL SECURITY;
INSERT INTO audit_links (tenant_id, id, seq, prev_hash, hash)
  SELECT tenant_id, id, seq, prev_hash, hash FROM audit_entries WHERE seq IS NOT NULL;
INSERT INTO audit_pending (tenant_id, id)
  SELECT tenant_id, id FROM audit_entries WHERE seq IS NULL;
ALTER TABLE audit_entries FORCE ROW LEVEL SECURITY;

SELECT bulkhead_protect_tenant_table('audit_links');
SELECT bulkhead_protect_tenant_table('audit_pending');
-- The runtime role reads links (seq and hashes of the entries it lists) and nothing else; it
-- never touches the pending marks: the trigger and the chaining function run as the owner.
GRANT SELECT ON audit_links TO :runtime_role;

-- The entry table loses everything chaining wrote into it (and the constraints and partial index
-- on those columns go with them), its insert trigger that cleared them, and the time index.
DROP TRIGGER audit_entries_chain ON audit_entries;
DROP FUNCTION audit_chain_append();
DROP INDEX audit_entries_tenant_time;
ALTER TABLE audit_entries DROP COLUMN seq, DROP COLUMN prev_hash, DROP COLUMN hash;

-- Marks every new entry pending, in the inserting statement: one call per statement (a COMMIT
-- message carries all of a transaction's entries in one INSERT). SECURITY DEFINER: the runtime
-- role has no right on audit_pending. RLS (forced) still applies: only the transaction's tenant.
CREATE FUNCTION audit_mark_pending() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO audit_pending (tenant_id, id) SELECT a.tenant_id, a.id FROM added a;
  RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION audit_mark_pending() FROM PUBLIC;
CREATE TRIGGER audit_entries_mark_pending AFTER INSERT ON audit_entries
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION audit_mark_pending();

-- Refuses every change, to every role, except DELETE through the erasure path, and (pending
-- marks only) their removal by the chaining function as it links them.
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('bulkhead.audit_erasure', true) = OLD.tenant_id::text THEN
    RETURN OLD;
  END IF;
  IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_pending' AND current_setting('bulkhead.audit_chaining', true) = OLD.tenant_id::text THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP USING ERRCODE = '42501';
END;
$$;

CREATE TRIGGER audit_links_append_only BEFORE UPDATE OR DELETE ON audit_links
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_links_no_truncate BEFORE TRUNCATE ON audit_links
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_pending_take_only BEFORE UPDATE OR DELETE ON audit_pending
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_pending_no_truncate BEFORE TRUNCATE ON audit_pending
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- Links the tenant's pending entries, oldest id first, under the lock on its chain head: takes
-- their marks and inserts one narrow link each (no entry is rewritten). As before: READ COMMITTED
-- only, nothing changed (no head made or locked) when nothing is pending, and nothing brought back
-- for a tenant the erasure path took meanwhile.
CREATE OR REPLACE FUNCTION audit_chain_pending(target uuid, OUT head_seq bigint, OUT head_hash bytea)
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  taken   uuid[];
  pending record;
  ids     uuid[] := '{}';
  seqs    bigint[] := '{}';
  prevs   bytea[] := '{}';
  hashes  bytea[] := '{}';
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'audit entries are chained in READ COMMITTED transactions only' USING ERRCODE = '25001';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM audit_pending p WHERE p.tenant_id = target) THEN
    SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_chain_heads h WHERE h.tenant_id = target;
    RETURN;
  END IF;
  SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_chain_heads h WHERE h.tenant_id = target FOR UPDATE;
  IF NOT FOUND THEN
    -- Waiting for that lock may have meant waiting for the erasure path, which took the head and
    -- the pending marks with it: then there is nothing to chain and no head to make.
    IF NOT EXISTS (SELECT 1 FROM audit_pending p WHERE p.tenant_id = target) THEN
      RETURN;
    END IF;
    -- The genesis hash names the tenant, so no chain can be passed off as another tenant's.
    INSERT INTO audit_chain_heads (tenant_id, seq, hash)
    VALUES (target, 0, sha256(convert_to('bulkhead-audit:' || target::text, 'UTF8')))
    ON CONFLICT (tenant_id) DO NOTHING;
    SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_chain_heads h WHERE h.tenant_id = target FOR UPDATE;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'audit chain head of tenant % is not reachable', target USING ERRCODE = '42501';
    END IF;
  END IF;
  -- Under the head lock, so a concurrent round of the same tenant finds these marks gone.
  PERFORM set_config('bulkhead.audit_chaining', target::text, true);
  WITH t AS (DELETE FROM audit_pending p WHERE p.tenant_id = target RETURNING p.id)
  SELECT array_agg(t.id) INTO taken FROM t;
  PERFORM set_config('bulkhead.audit_chaining', '', true);
  FOR pending IN
    SELECT e.id, convert_to(e.entry, 'UTF8') AS body, e.pii FROM audit_entries e
     WHERE e.tenant_id = target AND e.id = ANY(taken)
       AND NOT EXISTS (SELECT 1 FROM audit_links l WHERE l.tenant_id = target AND l.id = e.id)
     ORDER BY e.id
  LOOP
    head_seq := head_seq + 1;
    ids := ids || pending.id;
    seqs := seqs || head_seq;
    prevs := prevs || head_hash;
    head_hash := sha256(head_hash || int8send(head_seq) || sha256(int4send(octet_length(pending.body)) || pending.body || coalesce(pending.pii, '\x'::bytea)));
    hashes := hashes || head_hash;
  END LOOP;
  IF cardinality(ids) > 0 THEN
    INSERT INTO audit_links (tenant_id, id, seq, prev_hash, hash)
      SELECT target, l.id, l.seq, l.prev_hash, l.hash FROM unnest(ids, seqs, prevs, hashes) AS l(id, seq, prev_hash, hash);
    UPDATE audit_chain_heads SET seq = head_seq, hash = head_hash, updated_at = now() WHERE tenant_id = target;
  END IF;
END;
$$;
REVOKE ALL ON FUNCTION audit_chain_pending(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_chain_pending(uuid) TO :runtime_role;

-- The erasure path takes the links and the pending marks too, and the tenant's impersonation
-- grants (an audit table the offboarding leaves to this function, which had left them behind).
CREATE OR REPLACE FUNCTION bulkhead_audit_erase(target uuid) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  erased bigint;
BEGIN
  PERFORM set_config('bulkhead.audit_erasure', target::text, true);
  PERFORM set_config('app.tenant_id', target::text, true);
  DELETE FROM audit_entries WHERE tenant_id = target;
  GET DIAGNOSTICS erased = ROW_COUNT;
  DELETE FROM audit_links WHERE tenant_id = target;
  DELETE FROM audit_pending WHERE tenant_id = target;
  DELETE FROM audit_chain_heads WHERE tenant_id = target;
  DELETE FROM audit_keys WHERE tenant_id = target;
  DELETE FROM audit_impersonation_grants WHERE tenant_id = target;
  PERFORM set_config('bulkhead.audit_erasure', '', true);
  RETURN erased;
END;
$$;
REVOKE ALL ON FUNCTION bulkhead_audit_erase(uuid) FROM PUBLIC;

-- Entries are no longer chained inside the writing transaction. Chaining there took the tenant's
-- chain-head row lock from the COMMIT message to the end of its WAL flush, so one tenant's writes
-- committed one at a time (measured: a third of the write route's throughput with one busy
-- tenant). Every entry is now inserted pending (seq, prev_hash and hash NULL) and commits with its
-- write; `audit_chain_pending` links the tenant's pending entries, oldest id first, in one short
-- transaction shortly after (the AuditChainer, after each commit; the worker's sweep for anything
-- a crash left behind). The application still cannot choose an entry's place: whatever it sends
-- for seq and the hashes is cleared here.
CREATE OR REPLACE FUNCTION audit_chain_append() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  NEW.seq := NULL;
  NEW.prev_hash := NULL;
  NEW.hash := NULL;
  RETURN NEW;
END;
$$;
REVOKE ALL ON FUNCTION audit_chain_append() FROM PUBLIC;

-- Chaining now runs after every write and before every read of a trail: with nothing pending it
-- must change nothing (no head created or locked, no WAL), so that an erased tenant's trail is
-- never brought back by a late round, and a read costs no write.
CREATE OR REPLACE FUNCTION audit_chain_pending(target uuid, OUT head_seq bigint, OUT head_hash bytea)
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  pending record;
  linked  boolean := false;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'audit entries are chained in READ COMMITTED transactions only' USING ERRCODE = '25001';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM audit_entries e WHERE e.tenant_id = target AND e.seq IS NULL) THEN
    SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_chain_heads h WHERE h.tenant_id = target;
    RETURN;
  END IF;
  SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_chain_heads h WHERE h.tenant_id = target FOR UPDATE;
  IF NOT FOUND THEN
    -- Look again: waiting for that lock may have meant waiting for the erasure path, which took
    -- the head and the pending entries with it. Then there is nothing to chain and no head to make.
    IF NOT EXISTS (SELECT 1 FROM audit_entries e WHERE e.tenant_id = target AND e.seq IS NULL) THEN
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
  PERFORM set_config('bulkhead.audit_chaining', target::text, true);
  FOR pending IN SELECT e.id, e.entry, e.pii FROM audit_entries e WHERE e.tenant_id = target AND e.seq IS NULL ORDER BY e.id FOR UPDATE LOOP
    head_seq := head_seq + 1;
    UPDATE audit_entries
       SET seq = head_seq, prev_hash = head_hash,
           hash = sha256(head_hash || int8send(head_seq)
             || sha256(int4send(octet_length(convert_to(pending.entry, 'UTF8'))) || convert_to(pending.entry, 'UTF8') || coalesce(pending.pii, '\x'::bytea)))
     WHERE tenant_id = target AND id = pending.id
    RETURNING hash INTO head_hash;
    linked := true;
  END LOOP;
  PERFORM set_config('bulkhead.audit_chaining', '', true);
  IF linked THEN
    UPDATE audit_chain_heads SET seq = head_seq, hash = head_hash, updated_at = now() WHERE tenant_id = target;
  END IF;
END;
$$;
REVOKE ALL ON FUNCTION audit_chain_pending(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_chain_pending(uuid) TO :runtime_role;

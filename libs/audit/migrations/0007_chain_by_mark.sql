-- Chaining reached a round's entries with one query over the tenant's trail (`e.id = ANY(taken)`,
-- anti-joined to audit_links). Its plan rests on the tenant's row estimate, and a tenant newer or
-- busier than the last ANALYZE is estimated at a row or two: the plan then walked every entry of
-- the tenant, filtering on the array, and for each one every link of the tenant (through the
-- narrower (tenant_id, seq) index, which such an estimate makes look cheaper than the primary key).
-- Measured on a tenant of 6,100 entries: 244 ms to chain 100 (610,000 link rows read); chaining 2,000
-- took 47 ms, then 557 ms and 1,195 ms as the trail grew. Each mark now leads to its own entry and
-- to its possible link by primary key, one probe each whatever the estimates say, and the content
-- digests are taken there: 2,000 chain in about 40 ms however long the trail.
--
-- Unchanged: the hash of each link, the order (oldest id first), READ COMMITTED only, nothing
-- changed (no head made or locked) when nothing is pending, nothing brought back for a tenant the
-- erasure path took meanwhile, a mark whose entry is missing or already linked is dropped.
CREATE OR REPLACE FUNCTION audit_chain_pending(target uuid, OUT head_seq bigint, OUT head_hash bytea)
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  taken   uuid[];
  leaves  bytea[];
  n       integer;
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
  SELECT array_agg(t.id ORDER BY t.id) INTO taken FROM t;
  PERFORM set_config('bulkhead.audit_chaining', '', true);
  -- OFFSET 0 keeps the subquery per mark (a parameterised probe of each primary key) rather than
  -- letting it be flattened into a join the planner may run as a scan of the tenant's trail. The
  -- link probe names the tenant through a sub-select: planned on the tenant's own (stale) estimate,
  -- `l.tenant_id = target` made the narrower (tenant_id, seq) index look cheapest, and it read every
  -- link of the tenant per mark; as a parameter it is estimated as an average tenant, next to which
  -- the primary key's (tenant_id, id) is one row.
  SELECT array_agg(x.id ORDER BY x.id), array_agg(x.leaf ORDER BY x.id) INTO ids, leaves
    FROM unnest(taken) AS t(id)
    CROSS JOIN LATERAL (
      SELECT e.id, sha256(int4send(octet_length(convert_to(e.entry, 'UTF8'))) || convert_to(e.entry, 'UTF8') || coalesce(e.pii, '\x'::bytea)) AS leaf
        FROM audit_entries e
       WHERE e.tenant_id = target AND e.id = t.id
         AND NOT EXISTS (SELECT 1 FROM audit_links l WHERE l.tenant_id = (SELECT target) AND l.id = t.id)
      OFFSET 0
    ) x;
  n := coalesce(cardinality(ids), 0);
  FOR i IN 1..n LOOP
    head_seq := head_seq + 1;
    seqs[i] := head_seq;
    prevs[i] := head_hash;
    head_hash := sha256(head_hash || int8send(head_seq) || leaves[i]);
    hashes[i] := head_hash;
  END LOOP;
  IF n > 0 THEN
    INSERT INTO audit_links (tenant_id, id, seq, prev_hash, hash)
      SELECT target, l.id, l.seq, l.prev_hash, l.hash FROM unnest(ids, seqs, prevs, hashes) AS l(id, seq, prev_hash, hash);
    UPDATE audit_chain_heads SET seq = head_seq, hash = head_hash, updated_at = now() WHERE tenant_id = target;
  END IF;
END;
$$;
REVOKE ALL ON FUNCTION audit_chain_pending(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_chain_pending(uuid) TO :runtime_role;

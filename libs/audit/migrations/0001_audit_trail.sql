-- The tamper-evident audit trail, in every tenant data set (the pool, each tenant schema, each
-- silo): one hash chain per tenant, in the tenant's own placement. Each entry carries its
-- sequence number and the hash of the previous entry; the database assigns both (a trigger,
-- under a lock on the tenant's chain head), so the application only ever inserts content.
-- Append-only is enforced here, not by convention: the runtime role may SELECT and INSERT and
-- nothing else, and triggers refuse UPDATE, DELETE and TRUNCATE to everyone, the owner included,
-- except a DELETE through the erasure path (bulkhead_audit_erase). A superuser can still switch
-- triggers off; that is what `bulkhead audit verify` and the signed checkpoints are for.

-- The newest entry of each tenant's chain: one row per tenant, locked by the trigger for the
-- rest of the inserting transaction, so a tenant's entries get gapless sequence numbers in commit
-- order. Only the trigger (SECURITY DEFINER, as the owner) writes it.
CREATE TABLE audit_chain_heads (
  tenant_id   uuid        NOT NULL,
  -- Only so the row reads like every tenant row ((tenant_id, id)); the head is one per tenant.
  id          uuid        NOT NULL DEFAULT gen_random_uuid(),
  seq         bigint      NOT NULL CHECK (seq >= 0),
  hash        bytea       NOT NULL CHECK (octet_length(hash) = 32),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT audit_chain_heads_pkey PRIMARY KEY (tenant_id)
);
SELECT bulkhead_protect_tenant_table('audit_chain_heads');
GRANT SELECT ON audit_chain_heads TO :runtime_role;

-- `entry` is the entry's canonical JSON text exactly as hashed; the columns beside it are copies
-- for filtering that `audit verify` checks against it. `pii` is the personal data of the entry,
-- encrypted with the tenant's key (audit_keys): the hash covers the ciphertext, so destroying
-- the key (crypto-shredding) leaves the chain verifiable.
-- hash = sha256(prev_hash || int8(seq) || sha256(int4(length(entry)) || entry || coalesce(pii, '')))
CREATE TABLE audit_entries (
  tenant_id    uuid        NOT NULL,
  id           uuid        NOT NULL,
  seq          bigint,
  occurred_at  timestamptz NOT NULL,
  action       text        NOT NULL CHECK (char_length(action) BETWEEN 1 AND 200),
  outcome      text        NOT NULL CHECK (char_length(outcome) BETWEEN 1 AND 64),
  actor_kind   text        NOT NULL CHECK (char_length(actor_kind) BETWEEN 1 AND 32),
  request_id   text        CHECK (char_length(request_id) <= 200),
  entry        text        NOT NULL,
  pii          bytea,
  -- NULL while pending: an entry written by a REPEATABLE READ or SERIALIZABLE transaction (see
  -- audit_chain_pending) waits for the next append or the worker's sweep to be chained.
  prev_hash    bytea,
  hash         bytea,
  CONSTRAINT audit_entries_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT audit_entries_seq UNIQUE (tenant_id, seq),
  CONSTRAINT audit_entries_chained CHECK ((seq IS NULL) = (hash IS NULL) AND (seq IS NULL) = (prev_hash IS NULL))
);
CREATE INDEX audit_entries_tenant_time ON audit_entries (tenant_id, occurred_at);
CREATE INDEX audit_entries_pending ON audit_entries (tenant_id, id) WHERE seq IS NULL;
SELECT bulkhead_protect_tenant_table('audit_entries');
GRANT SELECT, INSERT ON audit_entries TO :runtime_role;

-- The tenant's data keys for the personal data in its entries, wrapped (AES-256-GCM) with the
-- deployment's master key, which never enters the database. Usually one; two transactions that
-- both found none may each add one (no unique constraint to conflict on, which a REPEATABLE READ
-- transaction could not survive): each sealed blob names its key. Shredding sets every `wrapped`
-- to NULL for good: the trigger refuses to restore one.
CREATE TABLE audit_keys (
  tenant_id    uuid        NOT NULL,
  id           uuid        NOT NULL,
  wrapped      bytea,
  created_at   timestamptz NOT NULL DEFAULT now(),
  shredded_at  timestamptz,
  CONSTRAINT audit_keys_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT audit_keys_shredded CHECK ((wrapped IS NULL) = (shredded_at IS NOT NULL))
);
SELECT bulkhead_protect_tenant_table('audit_keys');
GRANT SELECT, INSERT, UPDATE ON audit_keys TO :runtime_role;

-- Chains a tenant's pending entries (seq IS NULL), oldest id first, under the lock on its chain
-- head, and returns the head. SECURITY DEFINER so the runtime role needs no right on the heads
-- and no UPDATE on the entries; the search path is pinned to the one this migration runs with (the
-- tenant schema in the schema model). RLS still applies (it is forced): only the transaction's
-- tenant is reachable. Only in READ COMMITTED: a REPEATABLE READ snapshot could not see entries
-- committed after it began, and locking a head updated since would fail the transaction.
CREATE FUNCTION audit_chain_pending(target uuid, OUT head_seq bigint, OUT head_hash bytea)
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  pending record;
  linked  boolean := false;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'audit entries are chained in READ COMMITTED transactions only' USING ERRCODE = '25001';
  END IF;
  SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_chain_heads h WHERE h.tenant_id = target FOR UPDATE;
  IF NOT FOUND THEN
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

-- Assigns seq, prev_hash and hash to a new entry, after chaining whatever is pending before it,
-- all under the tenant's chain-head lock. An entry of a REPEATABLE READ or SERIALIZABLE
-- transaction is left pending instead (see above): the next append of the tenant, or the
-- worker's sweep before each checkpoint, chains it. The application never chooses any of them.
CREATE FUNCTION audit_chain_append() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  head record;
  body bytea := convert_to(NEW.entry, 'UTF8');
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    NEW.seq := NULL;
    NEW.prev_hash := NULL;
    NEW.hash := NULL;
    RETURN NEW;
  END IF;
  head := audit_chain_pending(NEW.tenant_id);
  NEW.seq := head.head_seq + 1;
  NEW.prev_hash := head.head_hash;
  NEW.hash := sha256(head.head_hash || int8send(NEW.seq) || sha256(int4send(octet_length(body)) || body || coalesce(NEW.pii, '\x'::bytea)));
  UPDATE audit_chain_heads SET seq = NEW.seq, hash = NEW.hash, updated_at = now() WHERE tenant_id = NEW.tenant_id;
  RETURN NEW;
END;
$$;
REVOKE ALL ON FUNCTION audit_chain_append() FROM PUBLIC;

CREATE TRIGGER audit_entries_chain BEFORE INSERT ON audit_entries
  FOR EACH ROW EXECUTE FUNCTION audit_chain_append();

-- Refuses every change to an entry, to every role, except a DELETE made by the erasure path and
-- the chaining of a pending entry (seq, prev_hash and hash set once, nothing else changed).
CREATE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('bulkhead.audit_erasure', true) = OLD.tenant_id::text THEN
    RETURN OLD;
  END IF;
  IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'audit_entries' AND current_setting('bulkhead.audit_chaining', true) = OLD.tenant_id::text
     AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
     AND (NEW.tenant_id, NEW.id, NEW.occurred_at, NEW.action, NEW.outcome, NEW.actor_kind, NEW.request_id, NEW.entry, NEW.pii)
         IS NOT DISTINCT FROM (OLD.tenant_id, OLD.id, OLD.occurred_at, OLD.action, OLD.outcome, OLD.actor_kind, OLD.request_id, OLD.entry, OLD.pii) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP USING ERRCODE = '42501';
END;
$$;

CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_chain_heads_append_only BEFORE DELETE ON audit_chain_heads
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_chain_heads_no_truncate BEFORE TRUNCATE ON audit_chain_heads
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- A key may only ever be shredded (wrapped -> NULL), never replaced or restored.
CREATE FUNCTION audit_key_shred_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.wrapped IS NOT NULL AND NEW.wrapped IS NULL AND NEW.tenant_id = OLD.tenant_id AND NEW.id = OLD.id THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'DELETE' AND current_setting('bulkhead.audit_erasure', true) = OLD.tenant_id::text THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit keys can only be shredded: % refused', TG_OP USING ERRCODE = '42501';
END;
$$;
CREATE TRIGGER audit_keys_shred_only BEFORE UPDATE OR DELETE ON audit_keys
  FOR EACH ROW EXECUTE FUNCTION audit_key_shred_only();

-- The erasure path: removes one tenant's whole trail (entries, head, key), for a tenant that is
-- being deleted for good. Only the owner may call it (it is not granted to the runtime role,
-- which has no DELETE on these tables anyway). Everything else, however privileged, is refused
-- by the triggers above.
CREATE FUNCTION bulkhead_audit_erase(target uuid) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  erased bigint;
BEGIN
  PERFORM set_config('bulkhead.audit_erasure', target::text, true);
  PERFORM set_config('app.tenant_id', target::text, true);
  DELETE FROM audit_entries WHERE tenant_id = target;
  GET DIAGNOSTICS erased = ROW_COUNT;
  DELETE FROM audit_chain_heads WHERE tenant_id = target;
  DELETE FROM audit_keys WHERE tenant_id = target;
  PERFORM set_config('bulkhead.audit_erasure', '', true);
  RETURN erased;
END;
$$;
REVOKE ALL ON FUNCTION bulkhead_audit_erase(uuid) FROM PUBLIC;

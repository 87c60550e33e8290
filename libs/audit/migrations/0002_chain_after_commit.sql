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

import { TenantTransaction } from '@bulkhead/tenancy';

/**
 * What became of the transaction that enqueued a job before it committed, as its job sees it:
 * `committed` and visible to what the job's transaction reads from now on; `rolled_back`;
 * `undecided` while it is still open, or committed a moment before new snapshots see it, or
 * unknown (an id of another server, the tenant moved since).
 */
export type EnqueuingWriteState = 'committed' | 'rolled_back' | 'undecided';

/**
 * The id of `tx`'s transaction on the tenant's server (`pg_current_xact_id()`), to put in the
 * payload of a job enqueued from inside it: the job can then ask what became of it
 * (`enqueuingWriteState`) instead of waiting JOBS_UNCOMMITTED_WAIT_MS for a row that will never
 * come. A transaction retried whole (a move's fence) enqueues again with another id: give the
 * job an id that includes it, so each attempt has its own job and the rolled-back one ends.
 */
export async function enqueuingWrite(tx: TenantTransaction): Promise<string> {
  // `$1` (the tenant) is named only because every statement of a tenant transaction is given it.
  const [row] = await tx.statement<{ xact: string }>('SELECT pg_current_xact_id()::text AS xact, $1::uuid AS tenant');
  return row.xact;
}

/**
 * Asked by a job that did not find the row its enqueuing transaction `xact` writes. `rolled_back`:
 * the row never comes, end the job. `committed`: a read in this transaction sees what it wrote
 * (under READ COMMITTED, by a statement after this one; under REPEATABLE READ, since the first),
 * so a row still missing is gone (erased since, or written in a savepoint that rolled back).
 * `undecided`: wait (throw `NotYetVisibleError`). Ask only when the row is missing: an id from
 * before a move to another server names another transaction here, and the copied row answers first.
 */
export async function enqueuingWriteState(tx: TenantTransaction, xact: string): Promise<EnqueuingWriteState> {
  // An id at or past this snapshot's horizon (one past the newest finished transaction) is still
  // open, or another server's, for which pg_xact_status would raise ("in the future"): undecided.
  const [writer] = await tx.statement<{ status: string | null; visible: boolean | null }>(
    `SELECT CASE WHEN $2::xid8 < pg_snapshot_xmax(pg_current_snapshot()) THEN pg_xact_status($2::xid8) END AS status,
            pg_visible_in_snapshot($2::xid8, pg_current_snapshot()) AS visible, $1::uuid AS tenant`,
    [xact],
  );
  if (writer?.status === 'aborted') return 'rolled_back';
  // Committed is recorded a moment before the commit becomes visible to new snapshots: until then, wait.
  if (writer?.status === 'committed' && writer.visible === true) return 'committed';
  return 'undecided';
}

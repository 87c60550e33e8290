import type { Client } from 'pg';
import { chainHash, genesisHash } from './chain-hash';
import { StoredEntry } from './entry-encoding';

const BATCH = 20_000;

/** What a verifier vouches for: the newest signed head it knows for the tenant. */
export interface TrustedHead {
  readonly seq: bigint;
  readonly hash: Buffer;
}

export interface ChainReport {
  tenantId: string;
  /** Where the chain lives: `pool`, `schema t_...`, `silo <database>`. */
  placement: string;
  entries: number;
  lastSeq: string;
  ok: boolean;
  /** The first sequence number that is wrong (changed, missing, inserted, out of order). */
  firstBadSeq: string | null;
  problem: string | null;
  /** The newest checkpoint, if one was given: whether the chain still contains it unchanged. */
  checkpoint: { seq: string; matches: boolean } | null;
}

interface Row {
  seq: string;
  id: string;
  occurred_at: Date;
  action: string;
  outcome: string;
  actor_kind: string;
  request_id: string | null;
  entry: string;
  pii: Buffer | null;
  prev_hash: Buffer;
  hash: Buffer;
}

/**
 * Recomputes one tenant's chain from its genesis, in sequence order, in batches: each entry must
 * carry the next sequence number, the previous entry's hash, a hash that matches its content and
 * columns that match its canonical text; the chain head must be the last entry; a signed
 * checkpoint, if given, must still be in the chain unchanged. Reports the first bad sequence
 * number. Run it as a role that sees every row (the admin role: RLS is forced on the owner).
 */
export async function verifyChain(client: Client, table: string, tenantId: string, placement: string, trusted?: TrustedHead): Promise<ChainReport> {
  const report: ChainReport = { tenantId, placement, entries: 0, lastSeq: '0', ok: true, firstBadSeq: null, problem: null, checkpoint: null };
  const fail = (seq: bigint, problem: string) => {
    report.ok = false;
    report.firstBadSeq = seq.toString();
    report.problem = problem;
    return report;
  };
  let prev = genesisHash(tenantId);
  let expected = 1n;
  let checkpointSeen = false;
  for (;;) {
    const { rows } = await client.query<Row>(
      // Ordered by the column (e.seq), not by the text alias `seq`, which would sort 10 before 2.
      `SELECT seq::text AS seq, id::text AS id, occurred_at, action, outcome, actor_kind, request_id, entry, pii, prev_hash, hash
         FROM ${table} e WHERE e.tenant_id = $1 AND e.seq >= $2::bigint ORDER BY e.seq LIMIT ${BATCH}`,
      [tenantId, expected.toString()],
    );
    for (const row of rows) {
      const seq = BigInt(row.seq);
      if (seq !== expected) return fail(expected, `entry ${expected} is missing (the next one is ${seq})`);
      if (!row.prev_hash.equals(prev)) return fail(seq, `entry ${seq} does not follow entry ${seq - 1n} (inserted, removed or reordered)`);
      if (!chainHash(prev, seq, row.entry, row.pii).equals(row.hash)) return fail(seq, `entry ${seq} was changed (its hash does not match its content)`);
      const mismatch = columnMismatch(row, tenantId);
      if (mismatch) return fail(seq, `entry ${seq} was changed (${mismatch} differs from the hashed entry)`);
      if (trusted && seq === trusted.seq) {
        checkpointSeen = true;
        if (!row.hash.equals(trusted.hash)) return fail(seq, `entry ${seq} differs from the signed checkpoint`);
      }
      prev = row.hash;
      expected = seq + 1n;
      report.entries += 1;
    }
    if (rows.length < BATCH) break;
  }
  report.lastSeq = (expected - 1n).toString();
  if (trusted) {
    report.checkpoint = { seq: trusted.seq.toString(), matches: checkpointSeen };
    if (!checkpointSeen) return fail(expected, `the chain ends at ${expected - 1n} but a signed checkpoint vouches for entry ${trusted.seq}`);
  }
  const head = await client.query<{ seq: string; hash: Buffer }>(`SELECT seq::text AS seq, hash FROM ${headsTableOf(table)} WHERE tenant_id = $1`, [tenantId]);
  const headSeq = head.rows[0] ? BigInt(head.rows[0].seq) : 0n;
  if (headSeq !== expected - 1n || (head.rows[0] && !head.rows[0].hash.equals(prev))) {
    const firstBad = headSeq > expected - 1n ? expected : headSeq + 1n;
    return fail(firstBad, `the chain head (seq ${headSeq}) does not match the last entry (seq ${expected - 1n}): entries removed from the end, or written around the trigger`);
  }
  return report;
}

function headsTableOf(entriesTable: string): string {
  return entriesTable.replace(/audit_entries$/, 'audit_chain_heads');
}

function columnMismatch(row: Row, tenantId: string): string | null {
  let stored: StoredEntry;
  try {
    stored = JSON.parse(row.entry) as StoredEntry;
  } catch {
    return 'entry text';
  }
  if (stored.tenant !== tenantId) return 'tenant';
  if (stored.id !== row.id) return 'id';
  if (stored.at !== row.occurred_at.toISOString()) return 'occurred_at';
  if (stored.action !== row.action) return 'action';
  if (stored.outcome !== row.outcome) return 'outcome';
  if (stored.actor.kind !== row.actor_kind) return 'actor_kind';
  if (stored.requestId !== row.request_id) return 'request_id';
  return null;
}

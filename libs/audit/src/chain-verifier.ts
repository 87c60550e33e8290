import type { Client } from 'pg';
import { genesisHash } from './chain-hash';

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

/** A row of a range worth looking at: a broken one, the checkpoint's, or the range's first or last. */
interface MarkedRow {
  seq: string;
  hash: Buffer;
  /** Only on the range's first row: its prev_hash, which must be the hash of the range before. */
  first_prev: Buffer | null;
  prev_seq: string | null;
  linked: boolean | null;
  hashed: boolean;
  columns_ok: boolean;
  n: number;
  i: number;
}

/**
 * Checks one tenant's chain from its genesis: each entry must carry the next sequence number and
 * the previous entry's hash, its hash must be `sha256(prev || int8(seq) || sha256(int4(len(entry))
 * || entry || pii))` over its stored content, and its filter columns must match its canonical
 * text; the chain head must be the last entry; a signed checkpoint, if given, must still be in the
 * chain unchanged. Reports the first bad sequence number. The chain is cut into ranges of 20,000
 * sequence numbers checked concurrently, one per connection given (`audit verify` uses four); in each, every row is checked
 * next to the data against its own content and its predecessor's hash, and only broken rows and
 * the range's ends travel back; the ranges are then stitched in order here. A million entries
 * take seconds. Like any reader, it sees what the server shows it: a server under a superuser's
 * control could show something else, which is what the signed checkpoints kept outside the
 * database (and the JSON-lines export, with each entry's hash) guard against. Run it as a role
 * that sees every row (the admin role: RLS is forced on the owner).
 */
export async function verifyChain(
  clients: Client | readonly Client[],
  table: string,
  tenantId: string,
  placement: string,
  trusted?: TrustedHead,
): Promise<ChainReport> {
  const pool: readonly Client[] = Array.isArray(clients) ? (clients as readonly Client[]) : [clients as Client];
  const report: ChainReport = { tenantId, placement, entries: 0, lastSeq: '0', ok: true, firstBadSeq: null, problem: null, checkpoint: null };
  const fail = (seq: bigint, problem: string) => {
    report.ok = false;
    report.firstBadSeq = seq.toString();
    report.problem = problem;
    return report;
  };
  const bounds = await pool[0].query<{ max: string | null; head_seq: string | null; head_hash: Buffer | null }>(
    `SELECT (SELECT max(seq)::text FROM ${table} WHERE tenant_id = $1) AS max,
            (SELECT seq::text FROM ${headsTableOf(table)} WHERE tenant_id = $1) AS head_seq,
            (SELECT hash FROM ${headsTableOf(table)} WHERE tenant_id = $1) AS head_hash`,
    [tenantId],
  );
  const maxSeq = BigInt(bounds.rows[0].max ?? '0');
  const headSeq = BigInt(bounds.rows[0].head_seq ?? '0');
  const end = maxSeq > headSeq ? maxSeq : headSeq;
  const ranges: bigint[] = [];
  for (let start = 1n; start <= end; start += BigInt(BATCH)) ranges.push(start);
  const results: MarkedRow[][] = new Array(ranges.length);
  let next = 0;
  await Promise.all(
    pool.map(async (client) => {
      while (next < ranges.length) {
        const index = next++;
        results[index] = await rangeOf(client, table, tenantId, ranges[index], trusted?.seq ?? 0n);
      }
    }),
  );

  let prev = genesisHash(tenantId);
  let expected = 1n;
  let checkpointSeen = false;
  for (const marked of results) {
    if (marked.length === 0) break;
    for (const row of marked) {
      const seq = BigInt(row.seq);
      const wanted = row.prev_seq === null ? expected : BigInt(row.prev_seq) + 1n;
      if (seq !== wanted) return fail(wanted, `entry ${wanted} is missing (the next one is ${seq})`);
      const linked = row.first_prev ? row.first_prev.equals(prev) : row.linked;
      if (!linked) return fail(seq, `entry ${seq} does not follow entry ${seq - 1n} (inserted, removed or reordered)`);
      if (!row.hashed) return fail(seq, `entry ${seq} was changed (its hash does not match its content)`);
      if (!row.columns_ok) return fail(seq, `entry ${seq} was changed (a filter column differs from the hashed entry)`);
      if (trusted && seq === trusted.seq) {
        checkpointSeen = true;
        if (!row.hash.equals(trusted.hash)) return fail(seq, `entry ${seq} differs from the signed checkpoint`);
      }
    }
    const last = marked[marked.length - 1];
    report.entries += last.n;
    prev = last.hash;
    expected = BigInt(last.seq) + 1n;
    if (last.n < BATCH) break;
  }
  report.lastSeq = (expected - 1n).toString();
  if (expected - 1n < maxSeq) return fail(expected, `entry ${expected} is missing (entries up to ${maxSeq} exist)`);
  if (trusted) {
    report.checkpoint = { seq: trusted.seq.toString(), matches: checkpointSeen };
    if (!checkpointSeen) return fail(expected, `the chain ends at ${expected - 1n} but a signed checkpoint vouches for entry ${trusted.seq}`);
  }
  const headHash = bounds.rows[0].head_hash;
  if (headSeq !== expected - 1n || (headHash && !headHash.equals(prev))) {
    const firstBad = headSeq > expected - 1n ? expected : headSeq + 1n;
    return fail(firstBad, `the chain head (seq ${headSeq}) does not match the last entry (seq ${expected - 1n}): entries removed from the end, or written around the trigger`);
  }
  return report;
}

/**
 * The range of sequence numbers [from, from + 20,000) (an index range scan on (tenant_id, seq)),
 * each row compared with its predecessor: the rows that are broken, the checkpoint's row and the
 * range's first and last rows. The filter columns are checked by rebuilding the start of the
 * entry's text from them (they come first in `StoredEntry`): no JSON parsing.
 */
async function rangeOf(client: Client, table: string, tenantId: string, from: bigint, checkpointSeq: bigint): Promise<MarkedRow[]> {
  const { rows } = await client.query<MarkedRow>(
    `WITH c AS (
       SELECT b.seq, b.hash, lag(b.seq) OVER w AS prev_seq,
              CASE WHEN row_number() OVER w = 1 THEN b.prev_hash END AS first_prev,
              b.prev_hash = lag(b.hash) OVER w AS linked,
              b.hash IS NOT DISTINCT FROM sha256(b.prev_hash || int8send(b.seq)
                || sha256(int4send(octet_length(convert_to(b.entry, 'UTF8'))) || convert_to(b.entry, 'UTF8') || coalesce(b.pii, '\\x'::bytea))) AS hashed,
              -- uuids and the ISO time need no JSON escaping; the free-text columns go through to_json.
              coalesce(starts_with(b.entry, '{"v":1,"id":"' || b.id::text || '","tenant":"' || b.tenant_id::text
                || '","at":"' || to_char(b.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                || '","action":' || to_json(b.action)::text || ',"outcome":' || to_json(b.outcome)::text
                || ',"actorKind":' || to_json(b.actor_kind)::text || ',"requestId":' || coalesce(to_json(b.request_id)::text, 'null') || ','), false) AS columns_ok,
              count(*) OVER () AS n, row_number() OVER w AS i
         FROM ${table} b
        WHERE b.tenant_id = $1 AND b.seq >= $2::bigint AND b.seq < $2::bigint + ${BATCH}
       WINDOW w AS (ORDER BY b.seq))
     SELECT c.seq::text AS seq, c.hash, c.first_prev, c.prev_seq::text AS prev_seq, c.linked, c.hashed, c.columns_ok, c.n::int AS n, c.i::int AS i FROM c
      WHERE c.i = 1 OR c.i = c.n OR NOT c.linked OR NOT c.hashed OR NOT c.columns_ok OR c.seq <> c.prev_seq + 1 OR c.seq = $3::bigint
      ORDER BY c.seq`,
    [tenantId, from.toString(), checkpointSeq.toString()],
  );
  return rows;
}

function headsTableOf(entriesTable: string): string {
  return entriesTable.replace(/audit_entries$/, 'audit_chain_heads');
}

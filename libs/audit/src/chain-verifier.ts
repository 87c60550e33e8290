import type { Client } from 'pg';
import { AuditChainTooLongProblem } from './audit.errors';
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

/** A link of a range worth looking at: a broken one, the checkpoint's, or the range's first or last. */
interface MarkedRow {
  seq: string;
  hash: Buffer;
  /** Only on the range's first row: its prev_hash, which must be the hash of the range before. */
  first_prev: Buffer | null;
  prev_seq: string | null;
  linked: boolean | null;
  n: number;
  i: number;
}

/** A broken row of the content check: a link whose entry is gone or differs, or an entry in no chain. */
interface ContentProblem {
  /** The link's seq; null for an entry that has no link (and no pending mark). */
  seq: string | null;
  missing: boolean;
  hashed: boolean;
  columns_ok: boolean;
}

/**
 * Checks one tenant's chain from its genesis: each link must carry the next sequence number and
 * the previous link's hash, its hash must be `sha256(prev || int8(seq) || sha256(int4(len(entry))
 * || entry || pii))` over the stored content of the entry it names, the entry's filter columns
 * must match its canonical text, every entry must be linked or pending, the chain head must be the
 * last link, and a signed checkpoint, if given, must still be in the chain unchanged. Reports the
 * first bad sequence number. Two passes, in ranges of 20,000 checked concurrently, one per
 * connection given (`audit verify` uses four), each computed next to the data so that only broken
 * rows and a range's ends travel back: the order (the narrow links, by seq) and the content (each
 * entry beside its link, both read in id order); the results are then stitched in order here. A
 * million entries take seconds. Like any reader, it sees what the server shows it: a server under
 * a superuser's control could show something else, which is what the signed checkpoints kept
 * outside the database (and the JSON-lines export, with each entry's hash) guard against. Run it
 * as a role that sees every row (the admin role: RLS is forced on the owner).
 */
export async function verifyChain(
  clients: Client | readonly Client[],
  table: string,
  tenantId: string,
  placement: string,
  trusted?: TrustedHead,
  options: { maxEntries?: number } = {},
): Promise<ChainReport> {
  const pool: readonly Client[] = Array.isArray(clients) ? (clients as readonly Client[]) : [clients as Client];
  const tables = tablesOf(table);
  const report: ChainReport = { tenantId, placement, entries: 0, lastSeq: '0', ok: true, firstBadSeq: null, problem: null, checkpoint: null };
  const fail = (seq: bigint, problem: string) => {
    report.ok = false;
    report.firstBadSeq = seq.toString();
    report.problem = problem;
    return report;
  };
  const bounds = await pool[0].query<{ max: string | null; head_seq: string | null; head_hash: Buffer | null }>(
    `SELECT (SELECT max(seq)::text FROM ${tables.links} WHERE tenant_id = $1) AS max,
            (SELECT seq::text FROM ${tables.heads} WHERE tenant_id = $1) AS head_seq,
            (SELECT hash FROM ${tables.heads} WHERE tenant_id = $1) AS head_hash`,
    [tenantId],
  );
  const maxSeq = BigInt(bounds.rows[0].max ?? '0');
  const headSeq = BigInt(bounds.rows[0].head_seq ?? '0');
  const end = maxSeq > headSeq ? maxSeq : headSeq;
  // Bounded callers (the operator API) refuse a chain longer than they may check, before reading any of it.
  if (options.maxEntries !== undefined && end > BigInt(options.maxEntries)) throw new AuditChainTooLongProblem(end, options.maxEntries);
  const starts: bigint[] = [];
  for (let start = 1n; start <= end; start += BigInt(BATCH)) starts.push(start);
  // The content pass cuts the id space where the order pass cuts the seqs: about as many entries each.
  const cuts = starts.length > 1 ? (await pool[0].query<{ id: string }>(`SELECT id::text FROM ${tables.links} WHERE tenant_id = $1 AND seq = ANY($2::bigint[]) ORDER BY id`, [tenantId, starts.slice(1).map(String)])).rows.map((row) => row.id) : [];
  const idRanges = [null, ...cuts].map((low, i) => ({ low, high: cuts[i] ?? null }));

  const order: MarkedRow[][] = new Array(starts.length);
  const content: ContentProblem[][] = new Array(idRanges.length);
  const tasks = [
    ...starts.map((start, i) => async (client: Client) => void (order[i] = await orderOf(client, tables, tenantId, start, trusted?.seq ?? 0n))),
    ...idRanges.map((range, i) => async (client: Client) => void (content[i] = await contentOf(client, tables, tenantId, range.low, range.high))),
  ];
  let next = 0;
  await Promise.all(
    pool.map(async (client) => {
      while (next < tasks.length) await tasks[next++](client);
    }),
  );

  // The content problem with the lowest seq; an entry in no chain is reported after every link is checked.
  const problems = content.flat();
  const unlinked = problems.filter((p) => p.seq === null).length;
  const byContent = problems
    .filter((p) => p.seq !== null)
    .map((p) => ({ seq: BigInt(p.seq!), problem: p.missing ? `entry ${p.seq} is missing (its link remains)` : !p.hashed ? `entry ${p.seq} was changed (its hash does not match its content)` : `entry ${p.seq} was changed (a filter column differs from the hashed entry)` }))
    .sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))[0];
  const contentFails = (seq: bigint) => byContent !== undefined && byContent.seq < seq;
  const failContent = () => fail(byContent!.seq, byContent!.problem);

  let prev = genesisHash(tenantId);
  let expected = 1n;
  let checkpointSeen = false;
  for (const marked of order) {
    if (marked.length === 0) break;
    for (const row of marked) {
      const seq = BigInt(row.seq);
      const wanted = row.prev_seq === null ? expected : BigInt(row.prev_seq) + 1n;
      if (seq !== wanted) return contentFails(wanted) ? failContent() : fail(wanted, `entry ${wanted} is missing (the next one is ${seq})`);
      const linked = row.first_prev ? row.first_prev.equals(prev) : row.linked;
      if (!linked) return contentFails(seq) ? failContent() : fail(seq, `entry ${seq} does not follow entry ${seq - 1n} (inserted, removed or reordered)`);
      if (trusted && seq === trusted.seq) {
        checkpointSeen = true;
        if (!row.hash.equals(trusted.hash)) return contentFails(seq) ? failContent() : fail(seq, `entry ${seq} differs from the signed checkpoint`);
      }
    }
    const last = marked[marked.length - 1];
    report.entries += last.n;
    prev = last.hash;
    expected = BigInt(last.seq) + 1n;
    if (last.n < BATCH) break;
  }
  if (byContent) return failContent();
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
  if (unlinked > 0) return fail(expected, `${unlinked} ${unlinked === 1 ? 'entry is' : 'entries are'} in no chain and not pending (written around the trigger, or a pending mark removed)`);
  return report;
}

/**
 * The order pass over the links with seq in [from, from + 20,000) (narrow rows, an index range
 * scan on (tenant_id, seq)), each compared with its predecessor: the rows that are out of order or
 * do not link, the checkpoint's row and the range's first and last rows.
 */
async function orderOf(client: Client, tables: ChainTables, tenantId: string, from: bigint, checkpointSeq: bigint): Promise<MarkedRow[]> {
  const { rows } = await client.query<MarkedRow>(
    `WITH c AS (
       SELECT l.seq, l.hash, lag(l.seq) OVER w AS prev_seq,
              CASE WHEN row_number() OVER w = 1 THEN l.prev_hash END AS first_prev,
              l.prev_hash = lag(l.hash) OVER w AS linked,
              count(*) OVER () AS n, row_number() OVER w AS i
         FROM ${tables.links} l
        WHERE l.tenant_id = $1 AND l.seq >= $2::bigint AND l.seq < $2::bigint + ${BATCH}
       WINDOW w AS (ORDER BY l.seq))
     SELECT c.seq::text AS seq, c.hash, c.first_prev, c.prev_seq::text AS prev_seq, c.linked, c.n::int AS n, c.i::int AS i FROM c
      WHERE c.i = 1 OR c.i = c.n OR NOT c.linked OR c.seq <> c.prev_seq + 1 OR c.seq = $3::bigint
      ORDER BY c.seq`,
    [tenantId, from.toString(), checkpointSeq.toString()],
  );
  return rows;
}

/**
 * The content pass over the entries and links with ids in [low, high) (both read in primary-key
 * order and merged): every link's hash recomputed over its entry's content, every entry's filter
 * columns checked by rebuilding the start of its text from them (they come first in
 * `StoredEntry`: no JSON parsing), and every entry either linked or pending. Only the broken rows
 * travel back.
 */
async function contentOf(client: Client, tables: ChainTables, tenantId: string, low: string | null, high: string | null): Promise<ContentProblem[]> {
  const params: string[] = [tenantId];
  const bound = (value: string | null) => (value === null ? null : `$${params.push(value)}::uuid`);
  const [from, to] = [bound(low), bound(high)];
  const range = (alias: string) => `${alias}.tenant_id = $1${from ? ` AND ${alias}.id >= ${from}` : ''}${to ? ` AND ${alias}.id < ${to}` : ''}`;
  const { rows } = await client.query<ContentProblem>(
    `WITH c AS (
       SELECT l.seq, e.id AS entry_id, l.id IS NULL AS unlinked, e.id IS NULL AS missing,
              l.hash IS NOT DISTINCT FROM sha256(l.prev_hash || int8send(l.seq)
                || sha256(int4send(octet_length(convert_to(e.entry, 'UTF8'))) || convert_to(e.entry, 'UTF8') || coalesce(e.pii, '\\x'::bytea))) AS hashed,
              -- uuids and the ISO time need no JSON escaping. The free-text columns are first
              -- compared as they are (most need no escaping either, and to_json is a third of the
              -- check's cost), which proves them equal only when none holds a backslash: every
              -- JSON escape makes one, so the text between the quotes is then the value itself.
              -- Otherwise they go through to_json.
              coalesce((strpos(e.action || e.outcome || e.actor_kind || coalesce(e.request_id, ''), '\\') = 0
                  AND starts_with(e.entry, p.head || '","action":"' || e.action || '","outcome":"' || e.outcome
                    || '","actorKind":"' || e.actor_kind || '","requestId":' || coalesce('"' || e.request_id || '"', 'null') || ','))
                OR starts_with(e.entry, p.head || '","action":' || to_json(e.action)::text || ',"outcome":' || to_json(e.outcome)::text
                  || ',"actorKind":' || to_json(e.actor_kind)::text || ',"requestId":' || coalesce(to_json(e.request_id)::text, 'null') || ','), false) AS columns_ok
         FROM (SELECT * FROM ${tables.entries} e WHERE ${range('e')}) e
         FULL JOIN (SELECT * FROM ${tables.links} l WHERE ${range('l')}) l ON l.id = e.id
         CROSS JOIN LATERAL (SELECT '{"v":1,"id":"' || e.id::text || '","tenant":"' || e.tenant_id::text
                || '","at":"' || to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS head) p)
     SELECT c.seq::text AS seq, c.missing, c.hashed, c.columns_ok FROM c
      WHERE c.missing OR (NOT c.unlinked AND NOT (c.hashed AND c.columns_ok))
         OR (c.unlinked AND NOT EXISTS (SELECT 1 FROM ${tables.pending} p WHERE p.tenant_id = $1 AND p.id = c.entry_id))`,
    params,
  );
  return rows;
}

interface ChainTables {
  entries: string;
  links: string;
  pending: string;
  heads: string;
}

/** The chain's tables beside `entriesTable` (same schema). */
function tablesOf(entriesTable: string): ChainTables {
  const beside = (name: string) => entriesTable.replace(/audit_entries$/, name);
  return { entries: entriesTable, links: beside('audit_links'), pending: beside('audit_pending'), heads: beside('audit_chain_heads') };
}

import { createHash } from 'node:crypto';

/** The hash before a tenant's first entry: it names the tenant, so a chain cannot pass for another's. */
export function genesisHash(tenantId: string): Buffer {
  return createHash('sha256').update('bulkhead-audit:' + tenantId, 'utf8').digest();
}

/** sha256(int4(length(entry)) || entry || pii): the digest of one entry's content. */
export function leafHash(entry: string, pii: Buffer | null): Buffer {
  const body = Buffer.from(entry, 'utf8');
  const length = Buffer.allocUnsafe(4);
  length.writeInt32BE(body.length, 0);
  const hash = createHash('sha256').update(length).update(body);
  if (pii) hash.update(pii);
  return hash.digest();
}

/** sha256(prev || int8(seq) || leaf): one link of the chain. */
export function linkHash(prev: Buffer, seq: bigint, leaf: Buffer): Buffer {
  const position = Buffer.allocUnsafe(8);
  position.writeBigInt64BE(seq, 0);
  return createHash('sha256').update(prev).update(position).update(leaf).digest();
}

/**
 * An entry's chain hash, exactly as the database's `audit_chain_pending` computes it:
 * `sha256(prev || int8(seq) || sha256(int4(length(entry)) || entry || pii))`. The content is
 * digested on its own first (as transparency logs hash their leaves), so a verifier can have the
 * digest of each entry computed next to the data and recompute only the links itself.
 */
export function chainHash(prev: Buffer, seq: bigint, entry: string, pii: Buffer | null): Buffer {
  return linkHash(prev, seq, leafHash(entry, pii));
}

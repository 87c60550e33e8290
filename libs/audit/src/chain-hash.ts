import { createHash } from 'node:crypto';

/** The hash before a tenant's first entry: it names the tenant, so a chain cannot pass for another's. */
export function genesisHash(tenantId: string): Buffer {
  return createHash('sha256').update('bulkhead-audit:' + tenantId, 'utf8').digest();
}

/**
 * sha256(prev || int8(seq) || int4(length(entry)) || entry || pii), exactly as the database's
 * trigger `audit_chain_append` computes it: the verifier recomputes every link with this.
 */
export function chainHash(prev: Buffer, seq: bigint, entry: string, pii: Buffer | null): Buffer {
  const body = Buffer.from(entry, 'utf8');
  const frame = Buffer.allocUnsafe(12);
  frame.writeBigInt64BE(seq, 0);
  frame.writeInt32BE(body.length, 8);
  const hash = createHash('sha256').update(prev).update(frame).update(body);
  if (pii) hash.update(pii);
  return hash.digest();
}

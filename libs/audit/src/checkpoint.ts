import { KeyObject, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TrustedHead } from './chain-verifier';

/** A signed statement that a tenant's chain had this head at this time; kept outside the database. */
export interface Checkpoint {
  v: 1;
  tenant: string;
  seq: string;
  /** hex */
  hash: string;
  at: string;
  keyId: string;
  /** Ed25519 over `checkpointMessage`, base64. */
  sig: string;
}

export function checkpointMessage(checkpoint: Omit<Checkpoint, 'sig'>): Buffer {
  return Buffer.from(JSON.stringify([checkpoint.v, checkpoint.tenant, checkpoint.seq, checkpoint.hash, checkpoint.at, checkpoint.keyId]), 'utf8');
}

export function signCheckpoint(key: KeyObject, keyId: string, head: { tenant: string; seq: bigint; hash: Buffer }, at = new Date()): Checkpoint {
  const unsigned = { v: 1 as const, tenant: head.tenant, seq: head.seq.toString(), hash: head.hash.toString('hex'), at: at.toISOString(), keyId };
  return { ...unsigned, sig: sign(null, checkpointMessage(unsigned), key).toString('base64') };
}

export function checkpointIsValid(publicKey: KeyObject, checkpoint: Checkpoint): boolean {
  try {
    const { sig, ...unsigned } = checkpoint;
    return verify(null, checkpointMessage(unsigned), publicKey, Buffer.from(sig, 'base64'));
  } catch {
    return false;
  }
}

/**
 * The newest validly signed checkpoint of each tenant in a JSON-lines file written by the file
 * sink. A line whose signature does not verify is reported, not trusted.
 */
export function readCheckpoints(file: string, publicKey: KeyObject): { heads: Map<string, TrustedHead>; invalid: number } {
  const heads = new Map<string, TrustedHead>();
  let invalid = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let checkpoint: Checkpoint;
    try {
      checkpoint = JSON.parse(line) as Checkpoint;
    } catch {
      invalid += 1;
      continue;
    }
    if (!checkpointIsValid(publicKey, checkpoint)) {
      invalid += 1;
      continue;
    }
    const seq = BigInt(checkpoint.seq);
    const known = heads.get(checkpoint.tenant);
    if (!known || known.seq <= seq) heads.set(checkpoint.tenant, { seq, hash: Buffer.from(checkpoint.hash, 'hex') });
  }
  return { heads, invalid };
}

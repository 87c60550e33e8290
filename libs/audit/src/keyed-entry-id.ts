import { createHash } from 'node:crypto';

/**
 * The id of the one entry a caller's key stands for in a chain: a uuid v7 whose time is `at` (as
 * every entry's id is taken at its time, so a time filter of the trail still finds it) and whose
 * other bits are a digest of the chain and the key. Writing it again yields the same id, which the
 * chain already holds: an effect delivered at least once (a lifecycle event retried) is recorded once.
 */
export function keyedEntryId(chainId: string, key: string, at: Date): string {
  const bytes = createHash('sha256').update(`bulkhead-audit-entry:${chainId}:${key}`).digest().subarray(0, 16);
  const ms = BigInt(at.getTime());
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

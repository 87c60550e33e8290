/**
 * The only place cache keys are built. Every key leads with the tenant's hash tag, so all of a
 * tenant's entries and tags live in one Redis Cluster slot (one MGET reads an entry's tags) and
 * nothing but the verified tenant id from the unit of work ever goes into the namespace.
 */
export function entryKey(tenantId: string, key: string): string {
  return `cache:{t:${tenantId}}:k:${key}`;
}

export function tagKey(tenantId: string, tag: string): string {
  return `cache:{t:${tenantId}}:tag:${tag}`;
}

/** The in-process tier's key: the tenant id is a uuid, so the separator cannot be forged by a logical key. */
export function localKey(tenantId: string, key: string): string {
  return `${tenantId} ${key}`;
}

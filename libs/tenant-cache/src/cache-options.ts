/** How long an entry lives and which tags invalidate it. */
export interface CacheEntryOptions {
  /** Time to live in Redis, in milliseconds (cut to CACHE_MAX_TTL_MS). */
  readonly ttlMs: number;
  /** Invalidating any of these (for the same tenant) drops the entry. */
  readonly tags?: readonly string[];
}

/** What an entry holds in Redis: the value and the version of each tag when it was written. */
export interface StoredEntry {
  readonly v: unknown;
  readonly t?: Readonly<Record<string, number>>;
}

const LOGICAL = /^[\x21-\x7e]{1,200}$/;

/** Logical keys and tags are printable ASCII without spaces, 1-200 characters: a bug otherwise. */
export function assertLogical(kind: 'key' | 'tag', value: string): void {
  if (!LOGICAL.test(value)) throw new Error(`Cache ${kind} must be 1-200 printable ASCII characters without spaces`);
}

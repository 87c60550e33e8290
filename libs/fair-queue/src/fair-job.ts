/** What `enqueue` takes: the BullMQ job name and data, plus an optional idempotency key. */
export interface FairJobInput<T = unknown> {
  name: string;
  data: T;
  /** Same id twice for one tenant = one job, while the first is buffered or in flight. */
  jobId?: string;
}

/** `job.data` of every job the dispatcher puts into BullMQ. */
export interface FairJobData<T = unknown> {
  tenant: string;
  name: string;
  payload: T;
  /** `Date.now()` at enqueue, so a consumer can measure queue wait. */
  enqueuedAt: number;
}

/** One job taken from a tenant buffer by the admission script. */
export interface AdmittedJob<T = unknown> {
  /** The BullMQ job id: deterministic, so re-adding after a crash dedupes. */
  id: string;
  data: FairJobData<T>;
}

/**
 * Caller ids are scoped by tenant (two tenants may both use "order-1"); generated ids carry a
 * '~', which caller ids cannot contain, so the two never collide. Neither contains ':' (BullMQ
 * rejects it) nor '|' (the buffer entry separator).
 */
export function fairJobId(tenant: string, callerId: string | undefined, generated: () => string): string {
  return callerId === undefined ? `${tenant}.~${generated()}` : `${tenant}.${callerId}`;
}

/** A buffer entry is `<id>|<json FairJobData>`: Lua only needs the id, found with one `find`. */
export function encodeEntry(id: string, data: FairJobData): string {
  return `${id}|${JSON.stringify(data)}`;
}

export function decodeEntry<T = unknown>(entry: string): AdmittedJob<T> {
  const bar = entry.indexOf('|');
  return { id: entry.slice(0, bar), data: JSON.parse(entry.slice(bar + 1)) as FairJobData<T> };
}

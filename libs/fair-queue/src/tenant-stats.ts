import type { TenantPolicy } from './tenant-policy';

/** One tenant as an operator sees it. */
export interface TenantStats {
  tenant: string;
  /** Jobs buffered, not yet admitted into BullMQ. */
  backlog: number;
  /** Jobs admitted and not yet finished (waiting or running in BullMQ, or staged). */
  inFlight: number;
  /** Milliseconds since the oldest buffered job was enqueued; 0 with no backlog. */
  oldestWaitMs: number;
  paused: boolean;
  /** Held by its own state (e.g. suspended), apart from an operator's pause; see `FairQueue.hold`. */
  held: boolean;
  /** Held back by its concurrency cap or rate limit until a slot frees or tokens refill. */
  parked: boolean;
  policy: TenantPolicy;
}

export interface FairQueueStats {
  /** Tenants with a backlog: competing, parked, paused or held. */
  backloggedTenants: number;
  inFlight: number;
  /** Admitted but not yet confirmed in BullMQ; non-zero for long only after a dispatcher crash. */
  staged: number;
}

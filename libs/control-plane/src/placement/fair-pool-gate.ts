import { BulkheadConfig } from '@bulkhead/config';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { OverloadedProblem } from './placement.errors';
import { ProcessLoad } from './process-load';

/** Writes wait this much longer than reads before they give up: they are never shed for a read's budget. */
const WRITE_WAIT_FACTOR = 10;
/** How often the governor looks at the process's load and adjusts the busiest tenants' limits. */
const GOVERN_EVERY_MS = 100;
/** A tenant's excess is held before its refusal up to this many times TENANT_MAX_QUEUE; beyond, refused at once (memory stays bounded). */
const HELD_PER_QUEUED = 8;
/** While saturated, a tenant above its share keeps this fraction of its connections per step. */
const SHRINK = 0.75;

interface Waiter {
  readonly critical: boolean;
  readonly since: number;
  grant(): void;
}

interface Lane {
  active: number;
  weight: number;
  waiting: Waiter[];
  /** Units of work beyond TENANT_MAX_QUEUE, held until their refusal is due (never served). */
  held: number;
  /** Connections this tenant may hold now: the pool's size unless the governor lowered it. */
  limit: number;
}

interface PoolLanes {
  active: number;
  capacity: number;
  readonly lanes: Map<string, Lane>;
  /** Tenants admitted since the governor's last look: two or more means the pool is shared. */
  readonly admitted: Set<string>;
}

/** The gate as metrics see it, read at scrape time only. */
export interface GateSnapshot {
  /** Units of work holding a connection, per pool kind. */
  readonly active: { shared: number; silo: number };
  /** Units of work waiting for one. */
  readonly waiting: { shared: number; silo: number };
  /** Tenants holding or waiting for a connection. */
  readonly tenants: number;
  /** Refused since start: `excess` (beyond TENANT_MAX_QUEUE), `timeout` (waited past the budget). */
  readonly shed: { excess: number; timeout: number };
  /** Tenants whose connection limit the governor holds below their pool's size now, per pool kind. */
  readonly heldBack: { shared: number; silo: number };
  /**
   * The governor's smoothed event-loop utilisation (0-1), as it last judged saturation against
   * POOL_SATURATION_UTILISATION; undefined when the governor is off (that setting 0).
   */
  readonly eventLoopUtilisation: number | undefined;
}

/** One tenant at one pool's gate, as a status page sees it. */
export interface GateLane {
  /** `shared:<cluster>` or `silo:<tenant id>`. */
  readonly pool: string;
  /** Units of work of this tenant holding a connection. */
  readonly inUse: number;
  /** Units of work of this tenant waiting for one. */
  readonly waiting: number;
  /** Connections it may hold now: the pool's size, unless the governor lowered it. */
  readonly limit: number;
  /** What it holds at most while other tenants wait (TENANT_MAX_CONNECTIONS). */
  readonly capWhileOthersWait: number;
  /** Waiters beyond this many are refused (TENANT_MAX_QUEUE): once the read budget has passed, or at once past HELD_PER_QUEUED times this many held. */
  readonly maxQueue: number;
  /** The pool's size in this process; units of work of every tenant holding a connection. */
  readonly capacity: number;
  readonly poolInUse: number;
}

export interface GateRequest {
  /** Which pool the unit of work will draw from: the shared pool, or one silo's. */
  pool: string;
  /** That pool's size in this process: the gate never admits more, so the pool never queues. */
  capacity: number;
  tenantId: string;
  weight: number;
  /** Writes are never shed for the read budget; they wait longer. */
  critical: boolean;
}

/**
 * Admission to a pool's connections, fair between tenants. The gate admits at most as many units
 * of work as the pool has connections, so the order in which waiters get a connection is the
 * gate's, not the driver's FIFO: when a connection frees, it goes to the waiting tenant holding
 * the fewest connections for its weight (tier), oldest request first among equals. While other
 * tenants wait, a tenant holds at most TENANT_MAX_CONNECTIONS; when nobody else wants them, it
 * may use the whole pool. So a quiet tenant's request is served next, however many a noisy one
 * has queued; the noisy tenant queues behind itself, and no connection idles while work waits.
 *
 * Shedding is per tenant, never global: a tenant's waiters beyond TENANT_MAX_QUEUE are refused
 * (its excess, answered once the read budget has passed), and a read that waited
 * POOL_QUEUE_BUDGET_MS without a connection is refused (503 with Retry-After) rather than served
 * too late to matter; a write waits ten times as long.
 *
 * Connections are not the only thing tenants share: the process's event loop is. When it is
 * saturated (utilisation above POOL_SATURATION_UTILISATION) and a pool serves more than one
 * tenant, the governor lowers, step by step, the connection limit of every tenant holding more
 * than its weighted share, and raises it again one at a time once the process has room. The
 * noisy tenant's requests then wait in its own queue (costing nothing) instead of being served
 * at the pace that starves everyone's callbacks, and a quiet tenant's request finds both a
 * connection and an event loop free. A tenant alone is never held back: there is nobody to
 * protect, and throughput would only be lost.
 */
@Injectable()
export class FairPoolGate implements OnModuleDestroy {
  private readonly pools = new Map<string, PoolLanes>();
  private readonly tenantCap: number;
  private readonly maxQueue: number;
  private readonly budgetMs: number;
  private shedExcess = 0;
  private shedTimeout = 0;

  private readonly saturation: number;
  private readonly load = new ProcessLoad();
  private readonly governor: NodeJS.Timeout | undefined;

  constructor(config: BulkheadConfig) {
    this.tenantCap = config.TENANT_MAX_CONNECTIONS;
    this.maxQueue = config.TENANT_MAX_QUEUE;
    this.budgetMs = config.POOL_QUEUE_BUDGET_MS;
    this.saturation = config.POOL_SATURATION_UTILISATION;
    if (this.saturation > 0) {
      this.governor = setInterval(() => this.govern(this.load.sample() >= this.saturation), GOVERN_EVERY_MS);
      this.governor.unref();
    }
  }

  onModuleDestroy(): void {
    if (this.governor) clearInterval(this.governor);
  }

  /**
   * One step of the governor: while `saturated`, in every pool that served two tenants or more
   * since the last step, each tenant holding more than its weighted share loses a quarter of its
   * limit (never below one connection); otherwise limits grow back by one per step up to the
   * pool's size.
   */
  govern(saturated: boolean): void {
    for (const pool of this.pools.values()) {
      const shared = pool.admitted.size >= 2;
      // Tenants served since the last step count towards the shares even if they hold nothing
      // right now (a quiet tenant's request is over in a few milliseconds); their weight as 1.
      let weights = 0;
      for (const lane of pool.lanes.values()) weights += lane.weight;
      for (const tenantId of pool.admitted) if (!pool.lanes.has(tenantId)) weights += 1;
      pool.admitted.clear();
      for (const lane of pool.lanes.values()) {
        if (saturated && shared) {
          const share = Math.max(1, Math.floor((pool.capacity * lane.weight) / Math.max(weights, 1)));
          if (lane.active > share) lane.limit = Math.max(1, Math.floor(Math.min(lane.limit, lane.active) * SHRINK));
        } else if (lane.limit < pool.capacity) {
          lane.limit += 1;
        }
      }
      if (!saturated) this.dispatch(pool, pool.capacity);
    }
  }

  async enter(request: GateRequest): Promise<void> {
    const pool = this.pools.get(request.pool) ?? this.open(request.pool);
    pool.capacity = request.capacity;
    const lane = pool.lanes.get(request.tenantId) ?? this.openLane(pool, request.tenantId, request.capacity);
    lane.weight = request.weight;
    pool.admitted.add(request.tenantId);
    if (
      pool.active < request.capacity &&
      lane.waiting.length === 0 &&
      lane.active < lane.limit &&
      (lane.active < this.tenantCap || !this.othersWaiting(pool, lane))
    ) {
      pool.active++;
      lane.active++;
      return;
    }
    if (lane.waiting.length >= this.maxQueue) {
      this.shedExcess++;
      if (lane.held < this.maxQueue * HELD_PER_QUEUED) {
        // Refused, but not at once: a refusal costs the process about what serving does (its
        // response's socket write dominates), and a client that ignores Retry-After sends the next
        // request the moment it has the answer, so answering the excess at once turned a flood into
        // a refusal storm that took the event loop from every tenant. Held, the excess waits out the
        // read budget (costing nothing but memory) and comes back at most once per budget.
        lane.held++;
        await new Promise((resolve) => setTimeout(resolve, this.budgetMs));
        lane.held--;
      }
      this.forgetIfIdle(request.pool, pool, request.tenantId, lane);
      throw new OverloadedProblem('Too many concurrent requests for this tenant.');
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        critical: request.critical,
        since: Date.now(),
        grant: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(
        () => {
          const at = lane.waiting.indexOf(waiter);
          if (at >= 0) lane.waiting.splice(at, 1);
          this.forgetIfIdle(request.pool, pool, request.tenantId, lane);
          this.shedTimeout++;
          reject(new OverloadedProblem('The database is busy for this tenant; retry shortly.'));
        },
        request.critical ? this.budgetMs * WRITE_WAIT_FACTOR : this.budgetMs,
      );
      lane.waiting.push(waiter);
    });
  }

  /** Counts over every pool, for metrics: walks the lanes, so call it per scrape, not per request. */
  snapshot(): GateSnapshot {
    const active = { shared: 0, silo: 0 };
    const waiting = { shared: 0, silo: 0 };
    const heldBack = { shared: 0, silo: 0 };
    const tenants = new Set<string>();
    for (const [key, pool] of this.pools) {
      const kind = key.startsWith('silo:') ? 'silo' : 'shared';
      active[kind] += pool.active;
      for (const [tenantId, lane] of pool.lanes) {
        waiting[kind] += lane.waiting.length;
        if (lane.limit < pool.capacity) heldBack[kind]++;
        tenants.add(tenantId);
      }
    }
    return {
      active,
      waiting,
      tenants: tenants.size,
      shed: { excess: this.shedExcess, timeout: this.shedTimeout },
      heldBack,
      eventLoopUtilisation: this.governor ? this.load.utilisation : undefined,
    };
  }

  /** A tenant's lane at one pool; a tenant with nothing held or waiting there has no lane, and gets zeros. */
  laneOf(poolKey: string, tenantId: string, capacity: number): GateLane {
    const pool = this.pools.get(poolKey);
    const lane = pool?.lanes.get(tenantId);
    return {
      pool: poolKey,
      inUse: lane?.active ?? 0,
      waiting: lane?.waiting.length ?? 0,
      limit: lane?.limit ?? capacity,
      capWhileOthersWait: this.tenantCap,
      maxQueue: this.maxQueue,
      capacity: pool?.capacity || capacity,
      poolInUse: pool?.active ?? 0,
    };
  }

  leave(request: Pick<GateRequest, 'pool' | 'capacity' | 'tenantId'>): void {
    const pool = this.pools.get(request.pool);
    const lane = pool?.lanes.get(request.tenantId);
    if (!pool || !lane) return;
    pool.active--;
    lane.active--;
    this.dispatch(pool, request.capacity);
    this.forgetIfIdle(request.pool, pool, request.tenantId, lane);
  }

  /**
   * Hands free connections to waiters: the lane with the fewest held per weight first, then the
   * oldest. A lane at its cap is served only when no lane under its cap waits: the cap divides a
   * contended pool, it never leaves connections idle (goodput is kept). A lane at the governor's
 * limit waits even while connections are free: then the process, not the pool, is what is short.
   */
  private dispatch(pool: PoolLanes, capacity: number): void {
    while (pool.active < capacity) {
      const chosen = this.pick(pool, true) ?? this.pick(pool, false);
      if (!chosen) return;
      const waiter = chosen.waiting.shift() as Waiter;
      pool.active++;
      chosen.active++;
      waiter.grant();
    }
  }

  private pick(pool: PoolLanes, underCapOnly: boolean): Lane | undefined {
    let chosen: Lane | undefined;
    for (const lane of pool.lanes.values()) {
      if (lane.waiting.length === 0 || lane.active >= lane.limit || (underCapOnly && lane.active >= this.tenantCap)) continue;
      if (!chosen) chosen = lane;
      else {
        const share = lane.active / lane.weight - chosen.active / chosen.weight;
        if (share < 0 || (share === 0 && lane.waiting[0].since < chosen.waiting[0].since)) chosen = lane;
      }
    }
    return chosen;
  }

  private othersWaiting(pool: PoolLanes, own: Lane): boolean {
    for (const lane of pool.lanes.values()) if (lane !== own && lane.waiting.length > 0) return true;
    return false;
  }

  private open(key: string): PoolLanes {
    const pool: PoolLanes = { active: 0, capacity: 0, lanes: new Map(), admitted: new Set() };
    this.pools.set(key, pool);
    return pool;
  }

  private openLane(pool: PoolLanes, tenantId: string, capacity: number): Lane {
    const lane: Lane = { active: 0, weight: 1, waiting: [], held: 0, limit: capacity };
    pool.lanes.set(tenantId, lane);
    return lane;
  }

  private forgetIfIdle(key: string, pool: PoolLanes, tenantId: string, lane: Lane): void {
    if (lane.active === 0 && lane.waiting.length === 0 && lane.held === 0) pool.lanes.delete(tenantId);
    if (pool.active === 0 && pool.lanes.size === 0) this.pools.delete(key);
  }
}

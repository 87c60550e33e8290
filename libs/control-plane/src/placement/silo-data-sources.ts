import { BulkheadConfig } from '@bulkhead/config';
import { hostOf, isConnectionFailure, PooledClient, ServiceUnreachableError } from '@bulkhead/database';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ClientConfig, Pool, PoolConfig } from 'pg';
import { DataSource } from 'typeorm';
import { CONTROL_PLANE_OPTIONS, ControlPlaneOptions } from '../control-plane.options';
import { ClusterRegistry } from './cluster-registry';
import { PlacedTenant } from './placement';
import { OverloadedProblem } from './placement.errors';
import { assertRuntimeRoleIsBound } from './runtime-role.check';
import { SiloTemplate } from './silo-template';

const ROOM_WAIT_MS = 5000;
/** Databases whose runtime role was checked, remembered per process (a silo is checked on its first open only). */
const VERIFIED_LIMIT = 100_000;

const SOCKET_COUNTER = Symbol('silo socket counter');

interface CountedConfig extends ClientConfig {
  readonly [SOCKET_COUNTER]: { opened(): void; closed(): void };
}

/**
 * Every silo's connections, counted against their pool's entry from the connection attempt until
 * the socket has closed; pg-pool hands each client its pool's options, which carry the counter.
 * One class for all pools: a class per pool gave each silo's clients a prototype, and so a hidden
 * class, of their own, putting hundreds of shapes through the same property accesses in pg's code.
 */
class CountedClient extends PooledClient {
  constructor(config?: CountedConfig) {
    super(config);
    const counter = config?.[SOCKET_COUNTER];
    // An uncounted connection would let the budget be overrun: refuse to open one.
    if (!counter) throw new Error('a silo connection needs its pool entry to count against');
    counter.opened();
    this.once('end', () => counter.closed());
  }
}

interface Entry {
  /** The silo's cluster and database: a tenant moved to a silo on another cluster gets a new pool. */
  readonly key: string;
  readonly tenantId: string;
  readonly database: string;
  readonly pool: Pool;
  /** Resolves to the silo's data source once its role is known to be bound by RLS. */
  readonly ready: Promise<DataSource>;
  /** Units of work holding this pool. */
  refs: number;
  /** Connections of the budget reserved for this pool: never fewer than refs nor than its sockets. */
  slots: number;
  /** Its connections, counted from the connection attempt until the socket has closed. */
  sockets: number;
  lastUsed: number;
  /** Set once evicted or idle-closed: its slots go back to the budget when its last socket closes. */
  closed?: () => void;
}

/** A driver pool's connections: open, idle, callers queued inside the driver, and its size. */
export interface PoolCounts {
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
  readonly max: number;
}

export interface SiloLease {
  dataSource: DataSource;
  release(): void;
}

/**
 * One small pool per silo tenant, within a global connection budget counted in connections, not
 * pools. A pool opens lazily (a `pg.Pool` and a data source forked from the process's metadata
 * template: no round trip), grows one connection at a time up to SILO_POOL_MAX, and reserves a
 * slot of the budget before each connection it may open. Pools live in an LRU; to make room the
 * least recently used idle one is closed, and its slots return to the budget when its sockets have
 * closed, which PostgreSQL does after the backend left its process table: the budget holds as the
 * server counts connections, without asking the server (which behind PgBouncer sees PgBouncer's
 * connections, not ours). A pool is referenced before any await, so eviction never closes one in use.
 */
@Injectable()
export class SiloDataSources implements OnApplicationShutdown {
  private readonly logger = new Logger('SiloDataSources');
  /** In LRU order: the least recently used first. */
  private readonly entries = new Map<string, Entry>();
  private readonly closing = new Set<Promise<void>>();
  private readonly verified = new Set<string>();
  /** Woken when slots return or a pool goes idle, for units of work waiting for room. */
  private roomWaiters: Array<() => void> = [];
  private readonly budget: number;
  private reserved = 0;
  /** Reserved slots of pools being closed: on their way back to the budget. */
  private returning = 0;
  /** Free slots (or slots on their way back) kept ready, so a new pool rarely waits for another to close. */
  private readonly headroom: number;
  private sockets = 0;
  private readonly sweeper: NodeJS.Timeout;
  private readonly applicationName: string;

  constructor(
    private readonly config: BulkheadConfig,
    private readonly clusters: ClusterRegistry,
    @Inject(CONTROL_PLANE_OPTIONS) options: ControlPlaneOptions,
    private readonly template: SiloTemplate,
  ) {
    this.budget = config.DATABASE_CONNECTION_BUDGET - config.DATABASE_POOL_MAX;
    if (this.budget < config.SILO_POOL_MAX) {
      throw new Error('DATABASE_CONNECTION_BUDGET leaves no room for a silo pool: raise it or lower DATABASE_POOL_MAX / SILO_POOL_MAX');
    }
    this.headroom = Math.min(this.budget - config.SILO_POOL_MAX, Math.max(config.SILO_POOL_MAX, Math.ceil(this.budget / 8)));
    this.applicationName = `${options.applicationName}-silo`;
    this.sweeper = setInterval(() => this.closeIdle(), Math.max(config.SILO_IDLE_MS / 2, 50));
    this.sweeper.unref();
  }

  /** Connections the silo pools may hold at most (the budget less the shared pool), for reports and tests. */
  get maxConnections(): number {
    return this.budget;
  }

  /** Silo pools open or still closing. */
  get open(): number {
    return this.entries.size + this.closing.size;
  }

  /** Silo connections open or opening in this process right now. */
  get connections(): number {
    return this.sockets;
  }

  /** The driver's counts of a tenant's silo pool in this process, if one is open (a status page's read: walks the pools). */
  poolOf(tenantId: string): PoolCounts | undefined {
    for (const entry of this.entries.values()) {
      if (entry.tenantId === tenantId) return { total: entry.pool.totalCount, idle: entry.pool.idleCount, waiting: entry.pool.waitingCount, max: this.config.SILO_POOL_MAX };
    }
    return undefined;
  }

  async acquire(tenant: PlacedTenant): Promise<SiloLease> {
    const entry = await this.reserve(tenant);
    let dataSource: DataSource;
    try {
      dataSource = await entry.ready;
    } catch (error) {
      this.release(entry);
      throw error;
    }
    let released = false;
    return {
      dataSource,
      release: () => {
        if (released) return;
        released = true;
        this.release(entry);
      },
    };
  }

  private release(entry: Entry): void {
    entry.refs--;
    entry.lastUsed = Date.now();
    if (entry.refs === 0) {
      this.wakeRoomWaiters();
      this.keepHeadroom();
    }
  }

  /**
   * References the tenant's pool and reserves the slot its next connection may need, with no
   * await between the budget check and the reservation, so concurrent requests can never
   * overshoot. Without room it closes the least recently used idle pool and waits (bounded) for
   * its sockets to close or for a pool to go idle; past the bound it sheds.
   */
  private async reserve(tenant: PlacedTenant): Promise<Entry> {
    const deadline = Date.now() + ROOM_WAIT_MS;
    for (;;) {
      const key = siloKeyOf(tenant);
      const existing = this.entries.get(key);
      // The gate admits at most SILO_POOL_MAX units per silo, so slots never exceed the pool's max.
      const needsSlot = !existing || existing.refs >= existing.slots;
      if (!needsSlot || this.reserved < this.budget) {
        const entry = existing ?? this.create(tenant);
        if (needsSlot) {
          entry.slots++;
          this.reserved++;
        }
        entry.refs++;
        this.entries.delete(key);
        this.entries.set(key, entry);
        return entry;
      }
      this.evictLeastRecentlyUsed();
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new OverloadedProblem('Every dedicated database connection is in use.');
      await this.nextRoom(remaining);
    }
  }

  private create(tenant: PlacedTenant): Entry {
    const url = this.clusters.siloUrl(tenant);
    const database = tenant.databaseName as string;
    const pool = new Pool({
      connectionString: url,
      application_name: this.applicationName,
      max: this.config.SILO_POOL_MAX,
      connectionTimeoutMillis: this.config.DATABASE_CONNECT_TIMEOUT_MS,
      // A silo's connection lives as long as its pool (SILO_IDLE_MS), not pg's own 30 s: with many
      // silos each one is revisited seldom, and a connection closed in between made its next
      // request start a backend, which slowed every request, which spaced the visits further.
      idleTimeoutMillis: this.config.SILO_IDLE_MS,
      Client: CountedClient,
      [SOCKET_COUNTER]: {
        opened: () => {
          entry.sockets++;
          this.sockets++;
        },
        closed: () => this.socketClosed(entry),
      },
    } as PoolConfig & CountedConfig);
    pool.on('error', (error) => this.logger.warn({ err: error, tenantId: tenant.tenantId }, 'an idle silo connection failed'));
    const entry: Entry = { key: siloKeyOf(tenant), tenantId: tenant.tenantId, database, pool, refs: 0, slots: 0, sockets: 0, lastUsed: Date.now(), ready: this.openDataSource(pool, database, url) };
    entry.ready.catch(() => this.close(entry));
    return entry;
  }

  /** The data source, after checking once per process per database that the runtime role is bound by RLS there. */
  private async openDataSource(pool: Pool, database: string, url: string): Promise<DataSource> {
    const dataSource = await this.template.fork(pool, database);
    if (this.verified.has(database)) return dataSource;
    try {
      await assertRuntimeRoleIsBound(dataSource);
    } catch (error) {
      if (isConnectionFailure(error)) throw new ServiceUnreachableError('PostgreSQL', hostOf(url));
      throw error;
    }
    if (this.verified.size >= VERIFIED_LIMIT) this.verified.clear();
    this.verified.add(database);
    return dataSource;
  }

  private socketClosed(entry: Entry): void {
    entry.sockets--;
    this.sockets--;
    if (entry.closed) {
      if (entry.sockets === 0) entry.closed();
      return;
    }
    // An idle connection timed out: give back the slots it no longer needs.
    const keep = Math.max(entry.refs, entry.sockets);
    if (entry.slots > keep) {
      this.reserved -= entry.slots - keep;
      entry.slots = keep;
      this.wakeRoomWaiters();
    }
  }

  /**
   * Closes least recently used idle pools ahead of need, until `headroom` slots are free or on
   * their way back: closing a connection waits for the server to let it go, and a request that
   * needs a new pool should not wait for that too. Only what exceeds the budget less the headroom
   * is evicted, so pools that fit stay open.
   */
  private keepHeadroom(): void {
    if (this.budget - this.reserved + this.returning >= this.headroom) return;
    for (const entry of this.entries.values()) {
      if (entry.refs !== 0) continue;
      this.close(entry);
      if (this.budget - this.reserved + this.returning >= this.headroom) return;
    }
  }

  private evictLeastRecentlyUsed(): void {
    for (const entry of this.entries.values()) {
      if (entry.refs === 0) {
        this.close(entry);
        return;
      }
    }
  }

  private nextRoom(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.roomWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wakeRoomWaiters(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Closes an idle pool; its slots return to the budget once its last socket has closed. */
  private close(entry: Entry): void {
    if (entry.closed) return;
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    let finish!: () => void;
    const slots = entry.slots;
    this.returning += slots;
    const gone = new Promise<void>((resolve) => (finish = resolve)).then(() => {
      this.returning -= slots;
      this.reserved -= entry.slots;
      entry.slots = 0;
      this.closing.delete(gone);
      this.wakeRoomWaiters();
    });
    entry.closed = finish;
    this.closing.add(gone);
    entry.pool.end().catch((error) => this.logger.warn({ err: error, tenantId: entry.tenantId }, 'closing a silo pool failed'));
    if (entry.sockets === 0) finish();
  }

  private closeIdle(): void {
    const cutoff = Date.now() - this.config.SILO_IDLE_MS;
    for (const entry of this.entries.values()) {
      if (entry.refs === 0 && entry.lastUsed < cutoff) this.close(entry);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweeper);
    for (const entry of [...this.entries.values()]) this.close(entry);
    await Promise.all(this.closing);
  }
}

function siloKeyOf(tenant: PlacedTenant): string {
  return `${tenant.cluster}/${tenant.databaseName}`;
}

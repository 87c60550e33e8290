import { BulkheadConfig } from '@bulkhead/config';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { randomUUID } from 'node:crypto';
import { CONTROL_PLANE_OPTIONS, ControlPlaneOptions, RUNTIME_DATA_SOURCE } from '../control-plane.options';
import { ClusterRegistry } from './cluster-registry';
import { PlacedTenant } from './placement';
import { OverloadedProblem } from './placement.errors';
import { openRuntimeDataSource } from './runtime-data-source';

const ROOM_WAIT_MS = 5000;

interface Entry {
  ready: Promise<DataSource>;
  refs: number;
  lastUsed: number;
}

export interface SiloLease {
  dataSource: DataSource;
  release(): void;
}

/**
 * One pool per silo tenant, within a global connection budget. A silo's data source is created
 * once (single-flight: concurrent first requests share one `initialize()`), kept in an LRU,
 * closed when idle, and evicted to make room only when no unit of work holds it, so eviction never
 * fails a request. The shared pools plus every silo pool never exceed DATABASE_CONNECTION_BUDGET.
 */
@Injectable()
export class SiloDataSources implements OnApplicationShutdown {
  private readonly logger = new Logger('SiloDataSources');
  private readonly entries = new Map<string, Entry>();
  private readonly closing = new Set<Promise<void>>();
  /** Woken when a silo becomes idle, for requests waiting for room under the budget. */
  private idleWaiters: Array<() => void> = [];
  private readonly capacity: number;
  private readonly sweeper: NodeJS.Timeout;
  /** Tags this process's silo connections, so an eviction can see its own backends leave. */
  private readonly connectionTag: string;
  /** At shutdown the shared pool closes concurrently: no more server-side checks then. */
  private shuttingDown = false;

  constructor(
    private readonly config: BulkheadConfig,
    private readonly clusters: ClusterRegistry,
    @Inject(CONTROL_PLANE_OPTIONS) private readonly options: ControlPlaneOptions,
    @Inject(RUNTIME_DATA_SOURCE) private readonly shared: DataSource,
  ) {
    this.capacity = Math.floor((config.DATABASE_CONNECTION_BUDGET - config.DATABASE_POOL_MAX) / config.SILO_POOL_MAX);
    if (this.capacity < 1) {
      throw new Error('DATABASE_CONNECTION_BUDGET leaves no room for a silo pool: raise it or lower DATABASE_POOL_MAX / SILO_POOL_MAX');
    }
    this.connectionTag = `${options.applicationName}-silo-${randomUUID().slice(0, 8)}`;
    this.sweeper = setInterval(() => this.closeIdle(), Math.max(config.SILO_IDLE_MS / 2, 50));
    this.sweeper.unref();
  }

  /** Connections the silo pools may hold at most, for reports and tests. */
  get maxConnections(): number {
    return this.capacity * this.config.SILO_POOL_MAX;
  }

  get open(): number {
    return this.entries.size + this.closing.size;
  }

  async acquire(tenant: PlacedTenant): Promise<SiloLease> {
    const entry = await this.reserve(tenant);
    try {
      const dataSource = await entry.ready;
      const held = entry;
      let released = false;
      return {
        dataSource,
        release: () => {
          if (released) return;
          released = true;
          held.refs--;
          held.lastUsed = Date.now();
          if (held.refs === 0) this.wakeIdleWaiters();
        },
      };
    } catch (error) {
      entry.refs--;
      throw error;
    }
  }

  private create(tenant: PlacedTenant): Entry {
    const entry: Entry = {
      refs: 0,
      lastUsed: Date.now(),
      ready: openRuntimeDataSource(this.config, this.options, this.connectionTag, {
        url: this.clusters.siloUrl(tenant),
        poolMax: this.config.SILO_POOL_MAX,
      }),
    };
    entry.ready.catch(() => {
      if (this.entries.get(tenant.tenantId) === entry) this.entries.delete(tenant.tenantId);
    });
    this.entries.set(tenant.tenantId, entry);
    return entry;
  }

  /**
   * References the tenant's pool, opening it once there is room: the capacity check and the reservation happen
   * with no await between them, so concurrent first requests can never overshoot the budget. To
   * make room it closes the least recently used idle silo; when every silo is busy it waits
   * (bounded) for one to go idle rather than failing the request, and past the bound it sheds.
   */
  private async reserve(tenant: PlacedTenant): Promise<Entry> {
    const deadline = Date.now() + ROOM_WAIT_MS;
    for (;;) {
      // Found or created, the entry is referenced before any await, so it cannot be evicted under us.
      const entry = this.entries.get(tenant.tenantId) ?? (this.open < this.capacity ? this.create(tenant) : undefined);
      if (entry) {
        entry.refs++;
        entry.lastUsed = Date.now();
        return entry;
      }
      const idle = [...this.entries.entries()].filter(([, entry]) => entry.refs === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed)[0];
      if (idle) this.close(idle[0], idle[1]);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new OverloadedProblem('Every dedicated database connection is in use.');
      // A pool being closed still holds connections: wait until it has let them go, or for a silo to go idle.
      await Promise.race([...this.closing, this.nextIdle(remaining)]);
    }
  }

  private nextIdle(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  private close(tenantId: string, entry: Entry): void {
    this.entries.delete(tenantId);
    const closed = entry.ready
      .then(async (dataSource) => {
        const database = dataSource.driver.database;
        await dataSource.destroy();
        await this.untilGone(database);
      })
      .catch((error) => this.logger.warn({ err: error, tenantId }, 'closing a silo pool failed'))
      .finally(() => this.closing.delete(closed));
    this.closing.add(closed);
  }

  /**
   * A closed client's backend lingers a moment in the server; count it against the budget until
   * PostgreSQL no longer lists it, so the budget holds as the server sees it.
   */
  private async untilGone(database: string | undefined): Promise<void> {
    if (!database) return;
    for (let attempt = 0; attempt < 100 && !this.shuttingDown; attempt++) {
      const [row] = await this.shared.query(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
        [database, this.connectionTag],
      );
      if (row.n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private closeIdle(): void {
    const cutoff = Date.now() - this.config.SILO_IDLE_MS;
    for (const [tenantId, entry] of this.entries) {
      if (entry.refs === 0 && entry.lastUsed < cutoff) this.close(tenantId, entry);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    clearInterval(this.sweeper);
    for (const [tenantId, entry] of this.entries) this.close(tenantId, entry);
    await Promise.all(this.closing);
  }
}

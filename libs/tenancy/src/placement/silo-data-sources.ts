import { BulkheadConfig } from '@bulkhead/config';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TenantContext } from '../context/tenant-context';
import { TenantProvisioner } from '../registry/tenant-provisioner';
import { OverloadedProblem } from '../tenancy.errors';
import { APPLICATION_NAME, EntityList, openRuntimeDataSource, TENANT_ENTITIES } from './runtime-data-source';

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
  private readonly capacity: number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly config: BulkheadConfig,
    private readonly provisioner: TenantProvisioner,
    @Inject(TENANT_ENTITIES) private readonly entities: EntityList,
    @Inject(APPLICATION_NAME) private readonly applicationName: string,
  ) {
    this.capacity = Math.floor((config.DATABASE_CONNECTION_BUDGET - config.DATABASE_POOL_MAX) / config.SILO_POOL_MAX);
    if (this.capacity < 1) {
      throw new Error('DATABASE_CONNECTION_BUDGET leaves no room for a silo pool: raise it or lower DATABASE_POOL_MAX / SILO_POOL_MAX');
    }
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

  async acquire(tenant: TenantContext): Promise<SiloLease> {
    let entry = this.entries.get(tenant.tenantId);
    if (!entry) {
      await this.makeRoom();
      // Re-check: another request may have opened it while this one waited for room.
      entry = this.entries.get(tenant.tenantId) ?? this.create(tenant);
    }
    entry.refs++;
    entry.lastUsed = Date.now();
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
        },
      };
    } catch (error) {
      entry.refs--;
      throw error;
    }
  }

  private create(tenant: TenantContext): Entry {
    const entry: Entry = {
      refs: 0,
      lastUsed: Date.now(),
      ready: openRuntimeDataSource(this.config, this.entities, this.applicationName, {
        url: this.provisioner.siloUrl(tenant),
        poolMax: this.config.SILO_POOL_MAX,
      }),
    };
    entry.ready.catch(() => {
      if (this.entries.get(tenant.tenantId) === entry) this.entries.delete(tenant.tenantId);
    });
    this.entries.set(tenant.tenantId, entry);
    return entry;
  }

  /** Frees a slot by closing the least recently used idle silo; sheds when every silo is busy. */
  private async makeRoom(): Promise<void> {
    for (let attempt = 0; this.open >= this.capacity; attempt++) {
      const idle = [...this.entries.entries()].filter(([, entry]) => entry.refs === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed)[0];
      if (idle) {
        this.close(idle[0], idle[1]);
      } else if (this.closing.size === 0 || attempt > 50) {
        throw new OverloadedProblem('Every dedicated database connection is in use.');
      }
      // A pool being closed still holds connections: wait until it has let them go.
      await Promise.race(this.closing);
    }
  }

  private close(tenantId: string, entry: Entry): void {
    this.entries.delete(tenantId);
    const closed = entry.ready
      .then((dataSource) => dataSource.destroy())
      .catch((error) => this.logger.warn({ err: error, tenantId }, 'closing a silo pool failed'))
      .finally(() => this.closing.delete(closed));
    this.closing.add(closed);
  }

  private closeIdle(): void {
    const cutoff = Date.now() - this.config.SILO_IDLE_MS;
    for (const [tenantId, entry] of this.entries) {
      if (entry.refs === 0 && entry.lastUsed < cutoff) this.close(tenantId, entry);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweeper);
    for (const [tenantId, entry] of this.entries) this.close(tenantId, entry);
    await Promise.all(this.closing);
  }
}

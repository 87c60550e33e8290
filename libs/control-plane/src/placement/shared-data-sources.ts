import { BulkheadConfig } from '@bulkhead/config';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CONTROL_PLANE_OPTIONS, ControlPlaneOptions, RUNTIME_DATA_SOURCE } from '../control-plane.options';
import { ClusterRegistry } from './cluster-registry';
import { openRuntimeDataSource } from './runtime-data-source';
import type { PoolCounts } from './silo-data-sources';

/**
 * The shared database of every cluster, where its pool and schema tenants live: main's is the
 * runtime data source opened at start (it also holds the control plane); another cluster's opens on
 * the first unit of work placed there (DATABASE_POOL_MAX connections on that server) and stays
 * open for the life of the process. Opening checks that the runtime role there is bound by RLS,
 * like main's. A cluster that cannot be reached fails its units of work, never another cluster's.
 */
@Injectable()
export class SharedDataSources implements OnApplicationShutdown {
  private readonly logger = new Logger('SharedDataSources');
  private readonly opened = new Map<string, Promise<DataSource>>();
  /** The clusters whose pool has opened, for counts read without waiting. */
  private readonly ready = new Map<string, DataSource>();

  constructor(
    @Inject(RUNTIME_DATA_SOURCE) private readonly main: DataSource,
    private readonly clusters: ClusterRegistry,
    private readonly config: BulkheadConfig,
    @Inject(CONTROL_PLANE_OPTIONS) private readonly options: ControlPlaneOptions,
  ) {}

  /** Synchronous for main, the hot path: no promise per unit of work there. */
  of(cluster: string): DataSource | Promise<DataSource> {
    if (cluster === 'main') return this.main;
    let opening = this.opened.get(cluster);
    if (!opening) {
      const settings = this.clusters.get(cluster);
      opening = openRuntimeDataSource(this.config, this.options, this.options.applicationName, { url: settings.url, poolMax: this.config.DATABASE_POOL_MAX });
      this.opened.set(cluster, opening);
      opening.then(
        (dataSource) => void this.ready.set(cluster, dataSource),
        () => undefined,
      );
      // A failed open is forgotten, so the next unit of work tries again once the cluster is back.
      opening.catch(() => {
        if (this.opened.get(cluster) === opening) this.opened.delete(cluster);
      });
    }
    return opening;
  }

  /** Each open shared pool's counts, main first; a cluster not used yet in this process has none. */
  counts(): Array<{ cluster: string; pool: PoolCounts }> {
    const all: Array<[string, DataSource]> = [['main', this.main], ...this.ready];
    return all.map(([cluster, dataSource]) => ({ cluster, pool: driverPoolOf(dataSource, this.config.DATABASE_POOL_MAX) }));
  }

  async onApplicationShutdown(): Promise<void> {
    const all = [...this.opened.values()];
    this.opened.clear();
    this.ready.clear();
    for (const opening of all) {
      const dataSource = await opening.catch(() => undefined);
      if (dataSource?.isInitialized) await dataSource.destroy().catch((error) => this.logger.warn({ err: error }, 'closing a shared pool failed'));
    }
  }
}

/** The pg pool under a TypeORM data source (its driver's `master`), as counts. */
export function driverPoolOf(dataSource: DataSource, max: number): PoolCounts {
  const pool = (dataSource.driver as unknown as { master?: { totalCount: number; idleCount: number; waitingCount: number } }).master;
  return { total: pool?.totalCount ?? 0, idle: pool?.idleCount ?? 0, waiting: pool?.waitingCount ?? 0, max };
}

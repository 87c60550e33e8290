import { BulkheadConfig } from '@bulkhead/config';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CONTROL_PLANE_OPTIONS, ControlPlaneOptions, RUNTIME_DATA_SOURCE } from '../control-plane.options';
import { ClusterRegistry } from './cluster-registry';
import { openRuntimeDataSource } from './runtime-data-source';

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
      // A failed open is forgotten, so the next unit of work tries again once the cluster is back.
      opening.catch(() => {
        if (this.opened.get(cluster) === opening) this.opened.delete(cluster);
      });
    }
    return opening;
  }

  async onApplicationShutdown(): Promise<void> {
    const all = [...this.opened.values()];
    this.opened.clear();
    for (const opening of all) {
      const dataSource = await opening.catch(() => undefined);
      if (dataSource?.isInitialized) await dataSource.destroy().catch((error) => this.logger.warn({ err: error }, 'closing a shared pool failed'));
    }
  }
}

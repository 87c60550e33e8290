import { BulkheadConfig } from '@bulkhead/config';
import { isSchemaName } from '@bulkhead/database';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RUNTIME_DATA_SOURCE } from '../control-plane.options';
import { ClusterRegistry } from './cluster-registry';
import { PlacedTenant, Placement } from './placement';
import { InvalidPlacementError, OverloadedProblem, PlacementUnavailableProblem } from './placement.errors';
import { poolUtilisation } from './pool-utilisation';
import { SiloDataSources } from './silo-data-sources';
import { TenantConnectionGate } from './tenant-connection-gate';

/**
 * Maps a tenant to its placement, for every unit of work: the shared pool (pool model), the
 * shared pool with the tenant's schema as the only search path (schema model), or the tenant's
 * own database (silo model). The placement comes from the registry record, never a guess; a
 * tenant without one fails closed. It also holds the tenant to its connection cap and sheds
 * non-critical work when the pool it would use is past POOL_SHED_THRESHOLD.
 */
@Injectable()
export class DataSourceRouter {
  constructor(
    @Inject(RUNTIME_DATA_SOURCE) private readonly shared: DataSource,
    private readonly silos: SiloDataSources,
    private readonly gate: TenantConnectionGate,
    private readonly clusters: ClusterRegistry,
    private readonly config: BulkheadConfig,
  ) {}

  async use<T>(tenant: PlacedTenant, work: (placement: Placement) => Promise<T>, options: { critical: boolean }): Promise<T> {
    await this.gate.enter(tenant.tenantId);
    let release: (() => void) | undefined;
    try {
      let placement: Placement;
      if (tenant.isolation === 'silo') {
        const lease = await this.silos.acquire(tenant);
        release = lease.release;
        placement = { model: 'silo', dataSource: lease.dataSource };
      } else {
        // Shared pools of other clusters are not opened by this version: fail closed, never use main's.
        if (tenant.cluster !== 'main') throw new PlacementUnavailableProblem(`Shared pools on cluster ${this.clusters.get(tenant.cluster).key} are not served yet.`);
        placement = tenant.isolation === 'schema' ? { model: 'schema', dataSource: this.shared, searchPath: this.searchPathOf(tenant) } : { model: 'pool', dataSource: this.shared };
      }
      if (!options.critical && poolUtilisation(placement.dataSource) >= this.config.POOL_SHED_THRESHOLD) {
        throw new OverloadedProblem('The database pool is busy; retry shortly.');
      }
      return await work(placement);
    } finally {
      release?.();
      this.gate.leave(tenant.tenantId);
    }
  }

  private searchPathOf(tenant: PlacedTenant): string {
    if (!isSchemaName(tenant.schemaName)) throw new InvalidPlacementError('schema tenant without a valid schema');
    return `"${tenant.schemaName}"`;
  }
}

import { BulkheadConfig } from '@bulkhead/config';
import { isSchemaName } from '@bulkhead/database';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RUNTIME_DATA_SOURCE } from '../control-plane.options';
import { ClusterRegistry } from './cluster-registry';
import { PlacedTenant, Placement } from './placement';
import { InvalidPlacementError, OverloadedProblem, PlacementUnavailableProblem } from './placement.errors';
import { SiloDataSources } from './silo-data-sources';
import { FairPoolGate } from './fair-pool-gate';

/**
 * Maps a tenant to its placement, for every unit of work: the shared pool (pool model), the
 * shared pool with the tenant's schema as the only search path (schema model), or the tenant's
 * own database (silo model). The placement comes from the registry record, never a guess; a
 * tenant without one fails closed. Every unit of work is admitted through the FairPoolGate of the
 * pool it will use, so tenants share connections by tier weight and shedding is per tenant.
 */
@Injectable()
export class DataSourceRouter {
  constructor(
    @Inject(RUNTIME_DATA_SOURCE) private readonly shared: DataSource,
    private readonly silos: SiloDataSources,
    private readonly gate: FairPoolGate,
    private readonly clusters: ClusterRegistry,
    private readonly config: BulkheadConfig,
  ) {}

  async use<T>(tenant: PlacedTenant, work: (placement: Placement) => Promise<T>, options: { critical: boolean }): Promise<T> {
    const silo = tenant.isolation === 'silo';
    const admission = {
      pool: silo ? `silo:${tenant.tenantId}` : `shared:${tenant.cluster}`,
      capacity: silo ? this.config.SILO_POOL_MAX : this.config.DATABASE_POOL_MAX,
      tenantId: tenant.tenantId,
      weight: this.config.poolTierWeights[tenant.tier],
      critical: options.critical,
    };
    await this.gate.enter(admission);
    let release: (() => void) | undefined;
    try {
      let placement: Placement;
      if (silo) {
        const lease = await this.silos.acquire(tenant);
        release = lease.release;
        placement = { model: 'silo', dataSource: lease.dataSource };
      } else {
        // Shared pools of other clusters are not opened by this version: fail closed, never use main's.
        if (tenant.cluster !== 'main') throw new PlacementUnavailableProblem(`Shared pools on cluster ${this.clusters.get(tenant.cluster).key} are not served yet.`);
        placement = tenant.isolation === 'schema' ? { model: 'schema', dataSource: this.shared, searchPath: this.searchPathOf(tenant) } : { model: 'pool', dataSource: this.shared };
      }
      return await work(placement);
    } finally {
      release?.();
      this.gate.leave(admission);
    }
  }

  private searchPathOf(tenant: PlacedTenant): string {
    if (!isSchemaName(tenant.schemaName)) throw new InvalidPlacementError('schema tenant without a valid schema');
    return `"${tenant.schemaName}"`;
  }
}

import { MigrationOutcome, migrationsOf, provisionSchema, provisionSilo } from '@bulkhead/database';
import { Inject, Injectable } from '@nestjs/common';
import { CONTROL_PLANE_OPTIONS, ControlPlaneOptions } from '../control-plane.options';
import { ClusterRegistry } from '../placement/cluster-registry';
import { InvalidPlacementError } from '../placement/placement.errors';
import { OwnerConnections } from './owner-connections';
import { TenantRecord } from './tenant.record';

export interface ProvisionOptions {
  dryRun?: boolean;
  /** Owner connections to reuse (schema tenants): a fleet run keeps one set per lane. */
  connections?: OwnerConnections;
}

/**
 * Brings a tenant's storage into existence and to the latest tenant migrations of every owner:
 * nothing for the pool (the shared tables are migrated with the platform), a schema or a database
 * otherwise. Idempotent, so the onboarding saga, an operator and the fleet runner can simply run
 * it again; it is the one place that knows how each model is provisioned.
 */
@Injectable()
export class TenantProvisioner {
  constructor(
    private readonly clusters: ClusterRegistry,
    @Inject(CONTROL_PLANE_OPTIONS) private readonly options: ControlPlaneOptions,
  ) {}

  /** The data version a placement carries once it has every owner's tenant migrations. */
  currentDataVersion(): number {
    return migrationsOf(this.options.migrations, 'tenant').length;
  }

  async provision(
    tenant: Pick<TenantRecord, 'id' | 'isolation' | 'cluster' | 'schemaName' | 'databaseName'>,
    options: ProvisionOptions = {},
  ): Promise<MigrationOutcome | null> {
    const cluster = this.clusters.get(tenant.cluster);
    const storage = { sources: this.options.migrations, dryRun: options.dryRun };
    if (tenant.isolation === 'schema') {
      if (!tenant.schemaName) throw new InvalidPlacementError('schema tenant without a schema name');
      const client = options.connections ? await options.connections.get(cluster) : undefined;
      return provisionSchema(cluster.ownerUrl, cluster.url, tenant.schemaName, tenant.id, { ...storage, client });
    }
    if (tenant.isolation === 'silo') {
      if (!tenant.databaseName) throw new InvalidPlacementError('silo tenant without a database name');
      return provisionSilo(cluster.ownerUrl, cluster.url, tenant.databaseName, storage);
    }
    return null;
  }
}

import { parsePgUrl, provisionSchema, provisionSilo, withDatabase, MigrationOutcome } from '@bulkhead/database';
import { Injectable } from '@nestjs/common';
import { ClusterRegistry } from '../placement/cluster-registry';
import { TenantRecord } from './tenant.record';

/**
 * Brings a tenant's storage into existence and to the latest tenant migration: nothing for the
 * pool (the shared tables are migrated with the platform), a schema or a database otherwise.
 * Idempotent, so the onboarding saga (and an operator) can simply run it again.
 */
@Injectable()
export class TenantProvisioner {
  constructor(private readonly clusters: ClusterRegistry) {}

  async provision(tenant: Pick<TenantRecord, 'id' | 'isolation' | 'cluster' | 'schemaName' | 'databaseName'>): Promise<MigrationOutcome | null> {
    const cluster = this.clusters.get(tenant.cluster);
    if (tenant.isolation === 'schema' && tenant.schemaName) {
      return provisionSchema(cluster.ownerUrl, cluster.url, tenant.schemaName, tenant.id);
    }
    if (tenant.isolation === 'silo' && tenant.databaseName) {
      return provisionSilo(cluster.ownerUrl, cluster.url, tenant.databaseName);
    }
    return null;
  }

  /** The runtime URL of a silo tenant's database. */
  siloUrl(tenant: Pick<TenantRecord, 'cluster' | 'databaseName'>): string {
    const cluster = this.clusters.get(tenant.cluster);
    if (!tenant.databaseName) throw new Error('not a silo tenant');
    return withDatabase(cluster.url, tenant.databaseName);
  }

  runtimeRole(cluster: string): string {
    return parsePgUrl(this.clusters.get(cluster).url).user;
  }
}

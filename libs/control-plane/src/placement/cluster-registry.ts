import { BulkheadConfig, ClusterSettings } from '@bulkhead/config';
import { parsePgUrl, withDatabase } from '@bulkhead/database';
import { Injectable } from '@nestjs/common';
import { InvalidPlacementError, RegionNotServedProblem } from './placement.errors';

export interface Cluster extends ClusterSettings {
  database: string;
}

/**
 * The database clusters this deployment may place tenants on, by key (parsed and checked by the
 * configuration). A tenant's region pins it: it is only ever placed on a cluster of its region,
 * and a region without one is an error at creation, never a fallback elsewhere.
 */
@Injectable()
export class ClusterRegistry {
  private readonly clusters = new Map<string, Cluster>();

  constructor(config: BulkheadConfig) {
    for (const cluster of config.clusters) this.clusters.set(cluster.key, { ...cluster, database: parsePgUrl(cluster.url).database });
  }

  get(key: string): Cluster {
    const cluster = this.clusters.get(key);
    if (!cluster) throw new InvalidPlacementError(`tenant placed on unknown cluster ${key}; is DATABASE_CLUSTERS complete?`);
    return cluster;
  }

  /** Every cluster of the region, main first; none is an error, never a fallback elsewhere. */
  inRegion(region: string): Cluster[] {
    const found = [...this.clusters.values()].filter((cluster) => cluster.region === region);
    if (!found.length) throw new RegionNotServedProblem(region);
    return found;
  }

  all(): Cluster[] {
    return [...this.clusters.values()];
  }

  /** The runtime URL of a silo tenant's database on its cluster. */
  siloUrl(tenant: { cluster: string; databaseName: string | null }): string {
    if (!tenant.databaseName) throw new InvalidPlacementError('not a silo tenant');
    return withDatabase(this.get(tenant.cluster).url, tenant.databaseName);
  }
}

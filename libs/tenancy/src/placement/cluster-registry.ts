import { BulkheadConfig } from '@bulkhead/config';
import { ProblemError } from '@bulkhead/problem';
import { Injectable } from '@nestjs/common';
import { parsePgUrl } from '@bulkhead/database';

export interface Cluster {
  key: string;
  region: string;
  /** Runtime role on the cluster's main database (pool and schema tenants). */
  url: string;
  /** Owner role on the same database: provisioning and migrations. */
  ownerUrl: string;
  database: string;
}

const KEY = /^[a-z0-9_-]{1,32}$/;
const REGION = /^[a-z0-9-]{2,32}$/;
const POSTGRES_URL = /^postgres(ql)?:\/\/\S+$/;

/**
 * The database clusters this deployment may place tenants on, by key. A tenant's region pins it:
 * it is only ever placed on a cluster of its region, and a region without one is an error at
 * creation, never a fallback elsewhere.
 */
@Injectable()
export class ClusterRegistry {
  private readonly clusters = new Map<string, Cluster>();

  constructor(config: BulkheadConfig) {
    this.add({ key: 'main', region: config.REGION, url: config.DATABASE_URL, ownerUrl: config.DATABASE_OWNER_URL });
    if (config.DATABASE_CLUSTERS) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(config.DATABASE_CLUSTERS);
      } catch {
        throw new Error('DATABASE_CLUSTERS must be JSON: {"<key>": {"region": "...", "url": "...", "ownerUrl": "..."}}');
      }
      for (const [key, value] of Object.entries(parsed as Record<string, { region?: string; url?: string; ownerUrl?: string }>)) {
        if (key === 'main') throw new Error('DATABASE_CLUSTERS may not redefine the main cluster');
        this.add({ key, region: value.region ?? '', url: value.url ?? '', ownerUrl: value.ownerUrl ?? '' });
      }
    }
  }

  get(key: string): Cluster {
    const cluster = this.clusters.get(key);
    if (!cluster) throw new Error(`Tenant placed on unknown cluster ${key}; is DATABASE_CLUSTERS complete?`);
    return cluster;
  }

  forRegion(region: string): Cluster {
    for (const cluster of this.clusters.values()) if (cluster.region === region) return cluster;
    throw new ProblemError(422, 'region_not_served', 'Region not served', `No database cluster serves region ${region}.`);
  }

  all(): Cluster[] {
    return [...this.clusters.values()];
  }

  private add(cluster: Omit<Cluster, 'database'>): void {
    if (!KEY.test(cluster.key) || !REGION.test(cluster.region) || !POSTGRES_URL.test(cluster.url) || !POSTGRES_URL.test(cluster.ownerUrl)) {
      throw new Error(`DATABASE_CLUSTERS: cluster ${cluster.key} needs a key, a region and postgres:// url and ownerUrl`);
    }
    this.clusters.set(cluster.key, { ...cluster, database: parsePgUrl(cluster.url).database });
  }
}

import { IsolationModel } from '@bulkhead/config';
import { ClusterRegistry } from '@bulkhead/control-plane';
import { databaseNameFor, isDatabaseName, isSchemaName, schemaNameFor, withDatabase } from '@bulkhead/database';

/** One side of a move: where a tenant's data lives, as the registry records it. */
export interface PlacementSpec {
  isolation: IsolationModel;
  cluster: string;
  schemaName: string | null;
  databaseName: string | null;
}

/** How the mover reaches one side: the owner role on the database, and the schema of the tables. */
export interface Endpoint {
  spec: PlacementSpec;
  /** Owner URL of the database holding the tables (the cluster's, or the silo's). */
  ownerUrl: string;
  /** Schema of the tables: `public` (pool, silo) or the tenant's schema. */
  schema: string;
}

/** The placement a tenant gets in `model` on `cluster`; names derive from its id, never from input. */
export function targetSpec(tenantId: string, model: IsolationModel, cluster: string, clusters: ClusterRegistry): PlacementSpec {
  const clusterDatabase = clusters.get(cluster).database;
  return {
    isolation: model,
    cluster,
    schemaName: model === 'schema' ? schemaNameFor(tenantId) : null,
    databaseName: model === 'silo' ? databaseNameFor(tenantId, clusterDatabase) : null,
  };
}

export function endpointOf(spec: PlacementSpec, clusters: ClusterRegistry): Endpoint {
  const cluster = clusters.get(spec.cluster);
  if (spec.isolation === 'silo') {
    if (!isDatabaseName(spec.databaseName)) throw new Error(`unsafe silo database name ${spec.databaseName}`);
    return { spec, ownerUrl: withDatabase(cluster.ownerUrl, spec.databaseName), schema: 'public' };
  }
  if (spec.isolation === 'schema') {
    if (!isSchemaName(spec.schemaName)) throw new Error(`unsafe schema name ${spec.schemaName}`);
    return { spec, ownerUrl: cluster.ownerUrl, schema: spec.schemaName };
  }
  return { spec, ownerUrl: cluster.ownerUrl, schema: 'public' };
}

export function samePlacement(a: PlacementSpec, b: PlacementSpec): boolean {
  return a.isolation === b.isolation && a.cluster === b.cluster && a.schemaName === b.schemaName && a.databaseName === b.databaseName;
}

/** Whether both sides are in one database (then they share one capture schema and one lock space). */
export function sameDatabase(a: Endpoint, b: Endpoint): boolean {
  return a.ownerUrl === b.ownerUrl;
}

export function describe(spec: PlacementSpec): string {
  return `${spec.isolation}@${spec.cluster}${spec.schemaName ? `/${spec.schemaName}` : ''}${spec.databaseName ? `/${spec.databaseName}` : ''}`;
}

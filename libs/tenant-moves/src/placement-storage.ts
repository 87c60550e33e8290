import { ClusterRegistry } from '@bulkhead/control-plane';
import { isDatabaseName, isSchemaName, quoteIdent, withPg } from '@bulkhead/database';
import { OwnerSession } from './owner-session';
import { endpointOf, PlacementSpec } from './placement-spec';
import { clearTenantRows } from './row-sync';
import { tenantTables } from './tenant-tables';

/**
 * Removes a tenant's data from a placement it no longer lives on (the source after the grace
 * period, or the target of an aborted move): its schema (and the schema's ledger entries, so a
 * later move back provisions it afresh), its database, or its rows in the shared pool.
 */
export async function dropTenantStorage(spec: PlacementSpec, tenantId: string, clusters: ClusterRegistry): Promise<void> {
  const cluster = clusters.get(spec.cluster);
  if (spec.isolation === 'schema') {
    if (!isSchemaName(spec.schemaName)) throw new Error('schema placement without a valid schema');
    const schema = spec.schemaName;
    await withPg(cluster.ownerUrl, 'bulkhead-mover', async (client) => {
      await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      await client.query('DELETE FROM public.schema_migrations WHERE target = $1', [`schema:${tenantId}`]);
    });
    return;
  }
  if (spec.isolation === 'silo') {
    if (!isDatabaseName(spec.databaseName)) throw new Error('silo placement without a valid database');
    const database = spec.databaseName;
    await withPg(cluster.ownerUrl, 'bulkhead-mover', async (client) => {
      // Instances close an unused silo pool after SILO_IDLE_MS; past the grace period nothing should
      // use it, so after a while the last idle connections are ended for it.
      for (let attempt = 0; ; attempt++) {
        try {
          await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)}${attempt >= 20 ? ' WITH (FORCE)' : ''}`);
          return;
        } catch (error) {
          if ((error as { code?: string }).code !== '55006' || attempt >= 20) throw error;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    });
    return;
  }
  const endpoint = endpointOf(spec, clusters);
  const session = await OwnerSession.open(endpoint.ownerUrl, tenantId);
  try {
    await clearTenantRows(session, endpoint.schema, await tenantTables(session, endpoint.schema));
  } finally {
    await session.close();
  }
}

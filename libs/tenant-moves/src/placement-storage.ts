import { ClusterRegistry } from '@bulkhead/control-plane';
import { dropSchemaOnce, isDatabaseName, isLockTimeout, isSchemaName, quoteIdent, withPg } from '@bulkhead/database';
import { OwnerSession } from './owner-session';
import { endpointOf, PlacementSpec } from './placement-spec';
import { clearTenantRows } from './row-sync';
import { tenantTables } from './tenant-tables';

/**
 * How long one attempt at DROP SCHEMA may wait for a lock. While its AccessExclusive request
 * waits, every later query on the schema's tables queues behind it: a straggling reader of the old
 * source would otherwise stall everything that touches those tables for as long as it reads.
 */
export const DROP_LOCK_TIMEOUT_MS = 200;

/** The rest after the `attempt`th drop that met a lock: growing, so a long straggler costs others little. */
export function dropLockBackoffMs(attempt: number): number {
  return Math.min(5_000, 100 * 2 ** Math.min(attempt, 6));
}

/** Told of each attempt that timed out on a lock, before the next: rests, and may stop the drop by throwing. */
export type LockWait = (attempt: number) => Promise<void>;

const restOnly: LockWait = (attempt) => new Promise((resolve) => setTimeout(resolve, dropLockBackoffMs(attempt)));

/**
 * Removes a tenant's data from a placement it no longer lives on (the source after the grace
 * period, or the target of an aborted move): its schema (and the schema's ledger entries, so a
 * later move back provisions it afresh), its database, or its rows in the shared pool.
 * A schema whose tables someone still holds is tried again after `lockWait` until it goes.
 */
export async function dropTenantStorage(spec: PlacementSpec, tenantId: string, clusters: ClusterRegistry, lockWait: LockWait = restOnly): Promise<void> {
  const cluster = clusters.get(spec.cluster);
  if (spec.isolation === 'schema') {
    if (!isSchemaName(spec.schemaName)) throw new Error('schema placement without a valid schema');
    const schema = spec.schemaName;
    await withPg(cluster.ownerUrl, 'bulkhead-mover', async (client) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await dropSchemaOnce(client, schema, tenantId, DROP_LOCK_TIMEOUT_MS);
        } catch (error) {
          if (!isLockTimeout(error)) throw error;
        }
        // Out of the lock queue while it rests: the tables' other users go on meanwhile.
        await lockWait(attempt);
      }
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

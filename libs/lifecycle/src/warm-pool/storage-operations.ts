import { ClusterRegistry } from '@bulkhead/control-plane';
import { dropSchemaOnce, isLockTimeout, isSchemaName, quoteIdent, withPg } from '@bulkhead/database';
import { Injectable } from '@nestjs/common';

const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,20}_t_[0-9a-f]{32}$/;
const OBJECT_IN_USE = '55006';
/** How long one attempt at DROP SCHEMA may wait for a lock before it steps out of the lock queue. */
const DROP_LOCK_TIMEOUT_MS = 200;

function checkDatabaseName(name: string): string {
  if (!DATABASE_NAME.test(name)) throw new Error(`unsafe database name ${name}`);
  return name;
}

function checkSchemaName(name: string): string {
  if (!isSchemaName(name)) throw new Error(`unsafe schema name ${name}`);
  return name;
}

/**
 * What the lifecycle does to a placement's storage besides provisioning it (which stays with the
 * control plane's provisioner): hand a warm schema or database over to a tenant by renaming it,
 * and drop one. Every operation is idempotent and runs as the owner role of the cluster.
 * Names are checked against the tenant-name patterns before they are quoted.
 */
@Injectable()
export class StorageOperations {
  constructor(private readonly clusters: ClusterRegistry) {}

  async schemaExists(cluster: string, schema: string): Promise<boolean> {
    return withPg(this.clusters.get(cluster).ownerUrl, 'bulkhead-lifecycle', async (client) => {
      const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [checkSchemaName(schema)]);
      return (found.rowCount ?? 0) > 0;
    });
  }

  async databaseExists(cluster: string, database: string): Promise<boolean> {
    return withPg(this.clusters.get(cluster).ownerUrl, 'bulkhead-lifecycle', async (client) => {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [checkDatabaseName(database)]);
      return (found.rowCount ?? 0) > 0;
    });
  }

  /**
   * Renames a warm schema to its tenant's and moves its migration ledger with it, in one
   * transaction: after a crash either both moved or neither. Done already (target there, source
   * gone) is success.
   */
  async adoptSchema(cluster: string, from: { schema: string; ledger: string }, to: { schema: string; ledger: string }): Promise<'adopted' | 'already'> {
    return withPg(this.clusters.get(cluster).ownerUrl, 'bulkhead-lifecycle', async (client) => {
      await client.query('BEGIN');
      try {
        const names = await client.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[])', [[checkSchemaName(from.schema), checkSchemaName(to.schema)]]);
        const present = new Set(names.rows.map((row) => row.nspname));
        if (present.has(to.schema)) {
          await client.query('ROLLBACK');
          return 'already';
        }
        if (!present.has(from.schema)) throw new Error(`warm schema ${from.schema} is gone`);
        await client.query(`ALTER SCHEMA ${quoteIdent(from.schema)} RENAME TO ${quoteIdent(to.schema)}`);
        // Functions created with `SET search_path FROM CURRENT` (the audit trail's) captured the old
        // name as text: point them at the new one, or they would run against a schema that is gone.
        const pinned = await client.query<{ fn: string; config: string }>(
          `SELECT p.oid::regprocedure::text AS fn, c AS config
             FROM pg_proc p CROSS JOIN LATERAL unnest(p.proconfig) AS c
            WHERE p.pronamespace = $1::regnamespace AND c LIKE 'search_path=%'`,
          [quoteIdent(to.schema)],
        );
        for (const row of pinned.rows) {
          const path = row.config.slice('search_path='.length).split(',').map((part) => part.trim().replace(/^"|"$/g, ''));
          const renamed = path.map((name) => quoteIdent(name === from.schema ? to.schema : name)).join(', ');
          await client.query(`ALTER FUNCTION ${row.fn} SET search_path = ${renamed}`);
        }
        await client.query('UPDATE public.schema_migrations SET target = $2 WHERE target = $1', [from.ledger, to.ledger]);
        await client.query('COMMIT');
        return 'adopted';
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  /** Renames a warm silo database to its tenant's (nobody is connected to a warm one). */
  async adoptDatabase(cluster: string, from: string, to: string): Promise<'adopted' | 'already'> {
    return withPg(this.clusters.get(cluster).ownerUrl, 'bulkhead-lifecycle', async (client) => {
      const names = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = ANY($1::text[])', [[checkDatabaseName(from), checkDatabaseName(to)]]);
      const present = new Set(names.rows.map((row) => row.datname));
      if (present.has(to)) return 'already';
      if (!present.has(from)) throw new Error(`warm database ${from} is gone`);
      await client.query(`ALTER DATABASE ${quoteIdent(from)} RENAME TO ${quoteIdent(to)}`);
      return 'adopted';
    });
  }

  /**
   * Drops a tenant's schema with everything in it, and its migration ledger, an attempt at a time
   * (`dropSchemaOnce`: each waits at most DROP_LOCK_TIMEOUT_MS for a lock, then steps out of the
   * lock queue), resting between attempts. A lock still held after `waitMs` fails the drop with
   * the lock timeout, to be retried.
   */
  async dropSchema(cluster: string, schema: string, tenantId: string, waitMs = 15_000): Promise<void> {
    const deadline = Date.now() + waitMs;
    await withPg(this.clusters.get(cluster).ownerUrl, 'bulkhead-lifecycle', async (client) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await dropSchemaOnce(client, checkSchemaName(schema), tenantId, DROP_LOCK_TIMEOUT_MS);
        } catch (error) {
          if (!isLockTimeout(error) || Date.now() > deadline) throw error;
        }
        // Out of the lock queue while it rests: the tables' other users go on meanwhile.
        await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** Math.min(attempt, 5))));
      }
    });
  }

  /**
   * Drops a silo database. Pools of other processes close theirs when idle (SILO_IDLE_MS), so a
   * database still in use is retried for up to `waitMs` before the step fails (and is retried).
   */
  async dropDatabase(cluster: string, database: string, waitMs = 15_000): Promise<void> {
    const deadline = Date.now() + waitMs;
    await withPg(this.clusters.get(cluster).ownerUrl, 'bulkhead-lifecycle', async (client) => {
      for (;;) {
        try {
          await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(checkDatabaseName(database))}`);
          return;
        } catch (error) {
          if ((error as { code?: string }).code !== OBJECT_IN_USE || Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    });
  }
}

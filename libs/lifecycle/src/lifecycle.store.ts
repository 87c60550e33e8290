import { BulkheadConfig } from '@bulkhead/config';
import { PooledClient } from '@bulkhead/database';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool, PoolClient, QueryResultRow } from 'pg';

/**
 * The lifecycle's own small pool on the control plane's database, as the runtime role: the ledger,
 * the warm pool, hosts, the outbox, archives and certificates are platform data (no tenant, no
 * RLS), and the control plane keeps its shared pool to itself.
 */
@Injectable()
export class LifecycleStore implements OnApplicationShutdown {
  private readonly pool: Pool;

  constructor(config: BulkheadConfig) {
    this.pool = new Pool({
      Client: PooledClient,
      connectionString: config.DATABASE_URL,
      max: 4,
      application_name: 'bulkhead-lifecycle',
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: config.DATABASE_CONNECT_TIMEOUT_MS,
    });
    // A dropped idle connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  async query<R extends QueryResultRow = Record<string, unknown>>(sql: string, values: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(sql, values)).rows;
  }

  async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const lost = watchConnection(client);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      lost.release();
    }
  }

  /** One connection for a while (a session advisory lock held across a long task). */
  async session<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const lost = watchConnection(client);
    try {
      return await work(client);
    } finally {
      lost.release();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * A checked-out connection has no pool listener: the server ending it between two statements (a
 * restart, an admin shutdown) would be an unhandled 'error' event that ends the process. Listen,
 * and hand a broken connection back as broken so the pool discards it.
 */
function watchConnection(client: PoolClient): { release(): void } {
  let failure: Error | undefined;
  const onError = (error: Error) => {
    failure ??= error;
  };
  client.on('error', onError);
  return {
    release: () => {
      client.removeListener('error', onError);
      client.release(failure);
    },
  };
}

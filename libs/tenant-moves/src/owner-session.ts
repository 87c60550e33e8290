import { connectPg, isTenantId } from '@bulkhead/database';
import { Client } from 'pg';

/**
 * One dedicated owner connection of the mover (never a pooled one). The owner is subject to RLS
 * (FORCE), so every transaction names the moved tenant, transaction-locally, like the API does.
 */
export class OwnerSession {
  private constructor(
    readonly client: Client,
    readonly tenantId: string,
  ) {}

  static async open(url: string, tenantId: string): Promise<OwnerSession> {
    if (!isTenantId(tenantId)) throw new Error('not a tenant id');
    const client = await connectPg(url, 'bulkhead-mover');
    // A connection the server drops must not take the process down: the next query reports it.
    client.on('error', () => undefined);
    return new OwnerSession(client, tenantId);
  }

  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]> {
    return this.client.query<R>(text, values).then((result) => result.rows);
  }

  /**
   * A transaction scoped to the tenant. `replica` applies rows the way logical replication does:
   * no trigger and no foreign-key check fires on them (the audit chain's fields arrive as they
   * were, and tables load in any order). `snapshot` makes every read of `work` see one snapshot.
   */
  async transaction<T>(work: () => Promise<T>, options: { replica?: boolean; snapshot?: boolean; readOnly?: boolean } = {}): Promise<T> {
    const mode = [options.snapshot ? 'ISOLATION LEVEL REPEATABLE READ' : '', options.readOnly ? 'READ ONLY' : ''].filter(Boolean).join(' ');
    await this.client.query(`START TRANSACTION ${mode}; SELECT set_config('app.tenant_id', '${this.tenantId}', true)${options.replica ? "; SET LOCAL session_replication_role = 'replica'" : ''}`);
    try {
      const result = await work();
      await this.client.query('COMMIT');
      return result;
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}

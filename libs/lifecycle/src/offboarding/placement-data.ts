import { ClusterRegistry, TenantRecord } from '@bulkhead/control-plane';
import { quoteIdent, withDatabase, withPg } from '@bulkhead/database';
import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Client } from 'pg';

export interface TableExport {
  table: string;
  rows: number;
  sha256: string;
}

export interface TenantArchive {
  /** The archive's bytes: one JSON document, deterministic for the same data. */
  content: Buffer;
  sha256: string;
  manifest: { format: string; tenantId: string; model: string; tables: TableExport[]; archiveSha256?: string };
}

const TENANT_TABLES = `SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
    AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
  ORDER BY c.relname`;

/** Where a tenant's rows live: the database to connect to and the schema its tables are in. */
interface Location {
  url: string;
  schema: string;
  exists: boolean;
}

/**
 * Reads and removes one tenant's rows where they live. Export and pool erasure run as the owner
 * with the tenant set in the transaction, so RLS (forced on the owner too) bounds them to that
 * tenant whatever the SQL says; counting other tenants' rows (verification) needs the admin role.
 */
@Injectable()
export class PlacementData {
  constructor(private readonly clusters: ClusterRegistry) {}

  /** Every row of every tenant table of the tenant's placement, table by table, in a stable order. */
  async export(tenant: TenantRecord): Promise<TenantArchive> {
    const location = await this.locate(tenant, 'owner');
    const tables: Array<{ table: string; rows: string[] }> = [];
    if (location.exists) {
      await withPg(location.url, 'bulkhead-lifecycle-export', async (client) => {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        try {
          await client.query("SELECT set_config('app.tenant_id', $1, true)", [tenant.id]);
          for (const { table } of (await client.query<{ table: string }>(TENANT_TABLES, [location.schema])).rows) {
            const qualified = `${quoteIdent(location.schema)}.${quoteIdent(table)}`;
            const rows = await client.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM ${qualified} t WHERE tenant_id = $1 ORDER BY 1`, [tenant.id]);
            tables.push({ table, rows: rows.rows.map((r) => r.row) });
          }
        } finally {
          await client.query('ROLLBACK');
        }
      });
    }
    const record = {
      id: tenant.id,
      slug: tenant.slug,
      name: tenant.name,
      tier: tenant.tier,
      isolation: tenant.isolation,
      region: tenant.region,
      externalRef: tenant.externalRef,
      cluster: tenant.cluster,
      schemaName: tenant.schemaName,
      databaseName: tenant.databaseName,
      dataVersion: tenant.dataVersion,
      createdAt: tenant.createdAt.toISOString(),
    };
    const manifestTables = tables.map(({ table, rows }) => ({ table, rows: rows.length, sha256: sha256(rows.join('\n')) }));
    const content = Buffer.from(
      `{"format":"bulkhead-tenant-archive/1","registry":${JSON.stringify(record)},"tables":[` +
        tables.map(({ table, rows }) => `{"table":${JSON.stringify(table)},"rows":[${rows.join(',')}]}`).join(',') +
        ']}',
    );
    const digest = sha256(content);
    return { content, sha256: digest, manifest: { format: 'bulkhead-tenant-archive/1', tenantId: tenant.id, model: tenant.isolation, tables: manifestTables, archiveSha256: digest } };
  }

  /**
   * Rows per tenant table: this tenant's, and every other tenant's (as the admin role, which sees
   * every row). For a schema or silo tenant whose storage is gone, its tables are gone: none.
   */
  async counts(tenant: TenantRecord): Promise<{ storage: boolean; tables: Record<string, { tenant: number; others: number }> }> {
    const location = await this.locate(tenant, 'admin');
    const tables: Record<string, { tenant: number; others: number }> = {};
    if (!location.exists) return { storage: false, tables };
    await withPg(location.url, 'bulkhead-lifecycle-verify', async (client) => {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        for (const { table } of (await client.query<{ table: string }>(TENANT_TABLES, [location.schema])).rows) {
          const qualified = `${quoteIdent(location.schema)}.${quoteIdent(table)}`;
          const counted = await client.query<{ tenant: string; others: string }>(
            `SELECT count(*) FILTER (WHERE tenant_id = $1) AS tenant, count(*) FILTER (WHERE tenant_id <> $1) AS others FROM ${qualified}`,
            [tenant.id],
          );
          tables[table] = { tenant: Number(counted.rows[0].tenant), others: Number(counted.rows[0].others) };
        }
      } finally {
        await client.query('ROLLBACK');
      }
    });
    return { storage: true, tables };
  }

  /**
   * Deletes the tenant's rows from the shared pool's tables as the owner, with RLS bounding the
   * statements to the tenant: its audit chain through the audit trail's erasure path, then every
   * other table, in an order the foreign keys accept (a table refused for now is tried again).
   */
  async erasePoolRows(tenant: TenantRecord): Promise<Record<string, number>> {
    const location = await this.locate(tenant, 'owner');
    const erased: Record<string, number> = {};
    await withPg(location.url, 'bulkhead-lifecycle-erase', async (client) => {
      await client.query('BEGIN');
      try {
        await client.query("SELECT set_config('app.tenant_id', $1, true)", [tenant.id]);
        if (await hasFunction(client, location.schema, 'bulkhead_audit_erase')) {
          const audit = await client.query<{ n: string }>(`SELECT ${quoteIdent(location.schema)}.bulkhead_audit_erase($1) AS n`, [tenant.id]);
          erased.audit_entries = Number(audit.rows[0].n);
        }
        let pending = (await client.query<{ table: string }>(TENANT_TABLES, [location.schema])).rows.map((r) => r.table).filter((t) => !t.startsWith('audit_'));
        for (let pass = 0; pending.length && pass <= pending.length; pass++) {
          const refused: string[] = [];
          for (const table of pending) {
            await client.query('SAVEPOINT erase_table');
            try {
              const result = await client.query(`DELETE FROM ${quoteIdent(location.schema)}.${quoteIdent(table)} WHERE tenant_id = $1`, [tenant.id]);
              erased[table] = (erased[table] ?? 0) + (result.rowCount ?? 0);
              await client.query('RELEASE SAVEPOINT erase_table');
            } catch (error) {
              if ((error as { code?: string }).code !== '23503') throw error;
              await client.query('ROLLBACK TO SAVEPOINT erase_table');
              refused.push(table);
            }
          }
          pending = refused;
        }
        if (pending.length) throw new Error(`could not erase ${pending.join(', ')}: foreign keys refuse every order`);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
    return erased;
  }

  private async locate(tenant: TenantRecord, as: 'owner' | 'admin'): Promise<Location> {
    const cluster = this.clusters.get(tenant.cluster);
    if (as === 'admin' && !cluster.adminUrl) throw new Error(`cluster ${cluster.key} has no adminUrl in DATABASE_CLUSTERS: an erasure there cannot be verified`);
    const base = as === 'owner' ? cluster.ownerUrl : withDatabase(cluster.adminUrl as string, cluster.database);
    if (tenant.isolation === 'pool') return { url: base, schema: 'public', exists: true };
    if (tenant.isolation === 'schema') {
      const exists = await withPg(cluster.ownerUrl, 'bulkhead-lifecycle', (c) => c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [tenant.schemaName]));
      return { url: base, schema: tenant.schemaName as string, exists: (exists.rowCount ?? 0) > 0 };
    }
    const exists = await withPg(cluster.ownerUrl, 'bulkhead-lifecycle', (c) => c.query('SELECT 1 FROM pg_database WHERE datname = $1', [tenant.databaseName]));
    return { url: withDatabase(base, tenant.databaseName as string), schema: 'public', exists: (exists.rowCount ?? 0) > 0 };
  }
}

async function hasFunction(client: Client, schema: string, name: string): Promise<boolean> {
  const found = await client.query('SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname = $2', [schema, name]);
  return (found.rowCount ?? 0) > 0;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

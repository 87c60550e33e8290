import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RUNTIME_DATA_SOURCE } from '../control-plane.options';
import { TenantRecord, TenantStatus } from './tenant.record';

interface TenantRow {
  id: string;
  slug: string;
  name: string;
  tier: TenantRecord['tier'];
  isolation: TenantRecord['isolation'];
  status: TenantStatus;
  region: string;
  external_ref: string | null;
  cluster: string;
  schema_name: string | null;
  database_name: string | null;
  data_version: number;
  placement_version: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, slug, name, tier, isolation, status, region, external_ref, cluster, schema_name, database_name, data_version, placement_version, created_at, updated_at';

function toRecord(row: TenantRow): TenantRecord {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    tier: row.tier,
    isolation: row.isolation,
    status: row.status,
    region: row.region,
    externalRef: row.external_ref,
    cluster: row.cluster,
    schemaName: row.schema_name,
    databaseName: row.database_name,
    dataVersion: row.data_version,
    placementVersion: row.placement_version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** What an operator narrows a listing by; every field is optional and ANDed. */
export interface TenantListFilter {
  status?: TenantStatus;
  tier?: TenantRecord['tier'];
  isolation?: TenantRecord['isolation'];
  region?: string;
  /** A slug prefix. */
  search?: string;
}

export interface NewTenant {
  id: string;
  slug: string;
  name: string;
  tier: TenantRecord['tier'];
  isolation: TenantRecord['isolation'];
  status: TenantStatus;
  region: string;
  externalRef: string | null;
  cluster: string;
  schemaName: string | null;
  databaseName: string | null;
}

/** The control-plane table of tenants. Platform data: no tenant context, no RLS. */
@Injectable()
export class TenantRepository {
  constructor(@Inject(RUNTIME_DATA_SOURCE) private readonly dataSource: DataSource) {}

  async findById(id: string): Promise<TenantRecord | null> {
    const rows: TenantRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM tenants WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /**
   * The tenants whose row changed after `since` (the database's clock, as text: no precision lost),
   * their versions (updated_at, as text), and the database's clock now, for the next call.
   */
  async changedSince(since: string | null, lagMs: number): Promise<{ now: string; changed: Array<{ id: string; externalRef: string | null; version: string }> }> {
    const rows: Array<{ now: string; id: string | null; external_ref: string | null; version: string | null }> = await this.dataSource.query(
      // statement_timestamp(), not clock_timestamp(): a stable bound, so the index on updated_at serves it.
      `SELECT statement_timestamp()::text AS now, t.id, t.external_ref, t.updated_at::text AS version
         FROM (SELECT 1) one
         LEFT JOIN tenants t ON t.updated_at > coalesce($1::timestamptz, statement_timestamp()) - make_interval(secs => $2::float8 / 1000)`,
      [since, lagMs],
    );
    return {
      now: rows[0].now,
      changed: rows.filter((row) => row.id !== null).map((row) => ({ id: row.id as string, externalRef: row.external_ref, version: row.version as string })),
    };
  }

  async findBySlug(slug: string): Promise<TenantRecord | null> {
    const rows: TenantRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM tenants WHERE slug = $1`, [slug]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async findByExternalRef(ref: string): Promise<TenantRecord | null> {
    const rows: TenantRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM tenants WHERE external_ref = $1`, [ref]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async list(options: TenantListFilter & { after?: string; limit: number }): Promise<TenantRecord[]> {
    const rows: TenantRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM tenants
        WHERE ($1::uuid IS NULL OR id > $1::uuid) AND ($2::text IS NULL OR status = $2)
          AND ($4::text IS NULL OR tier = $4) AND ($5::text IS NULL OR isolation = $5)
          AND ($6::text IS NULL OR region = $6) AND ($7::text IS NULL OR starts_with(slug, $7))
        ORDER BY id LIMIT $3`,
      [
        options.after ?? null,
        options.status ?? null,
        options.limit,
        options.tier ?? null,
        options.isolation ?? null,
        options.region ?? null,
        options.search ?? null,
      ],
    );
    return rows.map(toRecord);
  }

  /** Inserts, or returns null when the slug or external reference is taken. */
  async insert(tenant: NewTenant): Promise<TenantRecord | null> {
    const rows: TenantRow[] = await this.dataSource.query(
      `INSERT INTO tenants (id, slug, name, tier, isolation, status, region, external_ref, cluster, schema_name, database_name)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        tenant.id,
        tenant.slug,
        tenant.name,
        tenant.tier,
        tenant.isolation,
        tenant.status,
        tenant.region,
        tenant.externalRef,
        tenant.cluster,
        tenant.schemaName,
        tenant.databaseName,
      ],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Tenants whose data lives in their own schema or database, for fleet migrations. */
  async listPlaced(options: { after?: string; limit: number; id?: string }): Promise<TenantRecord[]> {
    const rows: TenantRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM tenants
        WHERE isolation IN ('schema', 'silo') AND status <> 'deleted'
          AND ($1::uuid IS NULL OR id > $1::uuid) AND ($2::uuid IS NULL OR id = $2::uuid)
        ORDER BY id LIMIT $3`,
      [options.after ?? null, options.id ?? null, options.limit],
    );
    return rows.map(toRecord);
  }

  /** Live schema and silo placements per cluster and model, at (or above) `dataVersion` and behind it. */
  async countByDataVersion(dataVersion: number): Promise<Array<{ cluster: string; model: 'schema' | 'silo'; current: number; behind: number }>> {
    // A version above the code's (a newer release rolled back) is not behind: nothing for migrate to do.
    return this.dataSource.query(
      `SELECT cluster, isolation AS model,
              count(*) FILTER (WHERE data_version >= $1)::int AS current,
              count(*) FILTER (WHERE data_version < $1)::int AS behind
         FROM tenants
        WHERE isolation IN ('schema', 'silo') AND status <> 'deleted'
        GROUP BY 1, 2 ORDER BY 1, 2`,
      [dataVersion],
    );
  }

  /** Live schema and silo placements behind `dataVersion`, the furthest behind first. */
  async listBehind(dataVersion: number, limit: number): Promise<Array<{ id: string; slug: string; cluster: string; model: 'schema' | 'silo'; status: TenantStatus; dataVersion: number }>> {
    const rows: Array<{ id: string; slug: string; cluster: string; model: 'schema' | 'silo'; status: TenantStatus; data_version: number }> = await this.dataSource.query(
      `SELECT id, slug, cluster, isolation AS model, status, data_version
         FROM tenants
        WHERE isolation IN ('schema', 'silo') AND status <> 'deleted' AND data_version < $1
        ORDER BY data_version, id LIMIT $2`,
      [dataVersion, limit],
    );
    return rows.map((row) => ({ id: row.id, slug: row.slug, cluster: row.cluster, model: row.model, status: row.status, dataVersion: row.data_version }));
  }

  /** Tenants living on each of these clusters (every status but deleted), for placing new ones. */
  async countLiveByCluster(clusters: readonly string[]): Promise<Map<string, number>> {
    const rows: Array<{ cluster: string; n: number }> = await this.dataSource.query(
      "SELECT cluster, count(*)::int AS n FROM tenants WHERE status <> 'deleted' AND cluster = ANY($1::text[]) GROUP BY cluster",
      [clusters],
    );
    return new Map(rows.map((row) => [row.cluster, row.n]));
  }

  /** Silo tenants whose database should exist (not provisioning, not deleted), for the doctor. */
  async listLiveSilos(): Promise<Array<{ slug: string; cluster: string; databaseName: string }>> {
    const rows: Array<{ slug: string; cluster: string; database_name: string }> = await this.dataSource.query(
      "SELECT slug, cluster, database_name FROM tenants WHERE isolation = 'silo' AND status IN ('active', 'suspended') ORDER BY id",
    );
    return rows.map((row) => ({ slug: row.slug, cluster: row.cluster, databaseName: row.database_name }));
  }

  async recordDataVersion(id: string, version: number): Promise<void> {
    await this.dataSource.query('UPDATE tenants SET data_version = $2, updated_at = now() WHERE id = $1', [id, version]);
  }

  /** Moves a tenant between statuses only from the expected one, so concurrent operators cannot race. */
  async transition(id: string, from: TenantStatus, to: TenantStatus): Promise<TenantRecord | null> {
    // TypeORM answers an UPDATE with [rows, rowCount] rather than the rows alone.
    const [rows]: [TenantRow[], number] = await this.dataSource.query(
      `UPDATE tenants SET status = $3, updated_at = now() WHERE id = $1 AND status = $2 RETURNING ${COLUMNS}`,
      [id, from, to],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }
}

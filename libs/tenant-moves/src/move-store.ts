import { BulkheadConfig } from '@bulkhead/config';
import { ClusterRegistry } from '@bulkhead/control-plane';
import { connectPg, PooledClient } from '@bulkhead/database';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Client, Pool } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { MoveLeaseLostError } from './move.errors';
import { PlacementSpec } from './placement-spec';
import { ABORTABLE, MovePhase, MoveProgress, MoveRecord } from './move.record';

interface MoveRow {
  id: string;
  tenant_id: string;
  phase: MovePhase;
  source: PlacementSpec;
  target: PlacementSpec;
  source_version: number;
  abort_requested: boolean;
  error: string | null;
  progress: MoveProgress;
  created_at: Date;
  updated_at: Date;
  switched_at: Date | null;
  finished_at: Date | null;
}

const COLUMNS = 'id, tenant AS tenant_id, phase, source, target, source_version, abort_requested, error, progress, created_at, updated_at, switched_at, finished_at';

function toRecord(row: MoveRow): MoveRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    phase: row.phase,
    source: row.source,
    target: row.target,
    sourceVersion: row.source_version,
    abortRequested: row.abort_requested,
    error: row.error,
    progress: row.progress,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    switchedAt: row.switched_at,
    finishedAt: row.finished_at,
  };
}

/** A move's lease: a session advisory lock in the control database, gone with its process. */
export interface MoveLease {
  client: Client;
  /** Throws `MoveLeaseLostError` once the lock's session is gone (a control database restart): another process may then take the move. */
  check(): Promise<void>;
  release(): Promise<void>;
}

/**
 * The moves table of the control database (`tenant_moves`), as the owner role: the mover also
 * switches the tenant's placement in the same database, in the same transaction as its phase.
 */
@Injectable()
export class MoveStore implements OnApplicationShutdown {
  private pool?: Pool;

  constructor(
    private readonly clusters: ClusterRegistry,
    private readonly config: BulkheadConfig,
  ) {}

  get controlUrl(): string {
    return this.clusters.get('main').ownerUrl;
  }

  private db(): Pool {
    if (!this.pool) {
      this.pool = new Pool({
        Client: PooledClient,
        connectionString: this.controlUrl,
        max: 2,
        application_name: 'bulkhead-moves',
        idleTimeoutMillis: 10_000,
        connectionTimeoutMillis: this.config.DATABASE_CONNECT_TIMEOUT_MS,
      });
      this.pool.on('error', () => undefined);
    }
    return this.pool;
  }

  async get(id: string): Promise<MoveRecord | null> {
    const { rows } = await this.db().query<MoveRow>(`SELECT ${COLUMNS} FROM tenant_moves WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** The tenant's newest move, finished or not. */
  async latest(tenantId: string): Promise<MoveRecord | null> {
    const { rows } = await this.db().query<MoveRow>(`SELECT ${COLUMNS} FROM tenant_moves WHERE tenant = $1 ORDER BY created_at DESC, id DESC LIMIT 1`, [tenantId]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async unfinished(tenantId: string): Promise<MoveRecord | null> {
    const { rows } = await this.db().query<MoveRow>(`SELECT ${COLUMNS} FROM tenant_moves WHERE tenant = $1 AND phase NOT IN ('done', 'aborted')`, [tenantId]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /**
   * Unfinished moves (neither done, aborted nor failed) that have made no progress for `quietMs`:
   * those whose mover died, and those a live mover holds in a long wait (the grace period), which
   * its lease tells apart. Before its switch, a move whose mover stopped on an error is left to an
   * operator (retrying it on a clock could copy a big tenant again and again); past its switch it
   * is retried all the same, as what is left is the drop of the old copy, small and idempotent, and
   * until it is done the tenant's old placement is kept (and its offboarding waits). Those past
   * their switch first.
   */
  async quiet(quietMs: number, limit = 100): Promise<string[]> {
    const { rows } = await this.db().query<{ id: string }>(
      `SELECT id FROM tenant_moves
        WHERE phase NOT IN ('done', 'aborted', 'failed') AND (error IS NULL OR switched_at IS NOT NULL)
          AND updated_at < now() - make_interval(secs => $1::double precision / 1000)
        ORDER BY switched_at IS NULL, created_at, id LIMIT $2`,
      [quietMs, limit],
    );
    return rows.map((row) => row.id);
  }

  /** Records a new move, or null when the tenant already has an unfinished one. */
  async insert(move: { tenantId: string; source: PlacementSpec; target: PlacementSpec; sourceVersion: number }): Promise<MoveRecord | null> {
    const { rows } = await this.db().query<MoveRow>(
      `INSERT INTO tenant_moves (id, tenant, phase, source, target, source_version)
       VALUES ($1, $2, 'preparing', $3, $4, $5) ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
      [uuidv7(), move.tenantId, JSON.stringify(move.source), JSON.stringify(move.target), move.sourceVersion],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async update(id: string, change: { phase?: MovePhase; error?: string | null; progress?: MoveProgress; abortRequested?: boolean; finished?: boolean }): Promise<void> {
    await this.db().query(
      `UPDATE tenant_moves SET
         phase = coalesce($2, phase),
         error = CASE WHEN $3::boolean THEN $4 ELSE error END,
         progress = coalesce($5::jsonb, progress),
         abort_requested = coalesce($6, abort_requested),
         finished_at = CASE WHEN $7::boolean THEN now() ELSE finished_at END,
         updated_at = now()
       WHERE id = $1`,
      [id, change.phase ?? null, change.error !== undefined, change.error ?? null, change.progress ? JSON.stringify(change.progress) : null, change.abortRequested ?? null, change.finished ?? false],
    );
  }

  /**
   * Asks the move to abort, only while it is still abortable (before its switch), and notes why
   * in its progress without rewriting the rest: checked and written in one statement, so a mover
   * switching meanwhile is never marked as undone nor loses what its switch recorded. Answers
   * whether the request was recorded.
   */
  async requestAbort(id: string, reason?: string): Promise<boolean> {
    const { rowCount } = await this.db().query(
      `UPDATE tenant_moves SET
         abort_requested = true,
         progress = CASE WHEN $2::text IS NULL THEN progress ELSE progress || jsonb_build_object('abortReason', $2::text) END,
         updated_at = now()
       WHERE id = $1 AND phase = ANY($3::text[])`,
      [id, reason ?? null, [...ABORTABLE]],
    );
    return (rowCount ?? 0) > 0;
  }

  /**
   * The switch: the tenant's placement and the move's phase change in one transaction, and only on
   * top of the placement version the move started from. Answers the tenant's external reference
   * for the change feed; repeating it after a crash finds it done and answers the same.
   */
  async switchPlacement(move: MoveRecord, region: string, progress: MoveProgress): Promise<{ externalRef: string | null }> {
    const client = await this.db().connect();
    try {
      await client.query('BEGIN');
      const t = move.target;
      let { rows } = await client.query<{ external_ref: string | null }>(
        `UPDATE tenants SET isolation = $2, cluster = $3, schema_name = $4, database_name = $5, region = $6,
                data_version = coalesce($8, data_version), placement_version = placement_version + 1, updated_at = now()
          WHERE id = $1 AND placement_version = $7 RETURNING external_ref`,
        [move.tenantId, t.isolation, t.cluster, t.schemaName, t.databaseName, region, move.sourceVersion, progress.dataVersion ?? null],
      );
      if (!rows.length) {
        ({ rows } = await client.query<{ external_ref: string | null }>(
          `SELECT external_ref FROM tenants WHERE id = $1 AND placement_version = $2 + 1 AND isolation = $3 AND cluster = $4
              AND schema_name IS NOT DISTINCT FROM $5 AND database_name IS NOT DISTINCT FROM $6`,
          [move.tenantId, move.sourceVersion, t.isolation, t.cluster, t.schemaName, t.databaseName],
        ));
        if (!rows.length) throw new Error('the tenant was placed elsewhere while it moved: not switched');
      }
      await client.query(
        `UPDATE tenant_moves SET phase = 'switched', switched_at = coalesce(switched_at, now()), progress = $2, error = NULL, updated_at = now() WHERE id = $1`,
        [move.id, JSON.stringify(progress)],
      );
      await client.query('COMMIT');
      return { externalRef: rows[0].external_ref };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Takes the move's lease without waiting; null when another process drives it. */
  async lease(moveId: string): Promise<MoveLease | null> {
    const client = await connectPg(this.controlUrl, 'bulkhead-mover-lease');
    client.on('error', () => undefined);
    let rows: Array<{ taken: boolean }>;
    try {
      ({ rows } = await client.query<{ taken: boolean }>("SELECT pg_try_advisory_lock(hashtextextended('bulkhead-mover:' || $1, 0)) AS taken", [moveId]));
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (!rows[0]?.taken) {
      await client.end().catch(() => undefined);
      return null;
    }
    return {
      client,
      check: () =>
        client.query('SELECT 1').then(
          () => undefined,
          (error: unknown) => {
            throw new MoveLeaseLostError(error);
          },
        ),
      release: () => client.end().catch(() => undefined),
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool?.end().catch(() => undefined);
  }
}

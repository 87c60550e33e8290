import { BulkheadConfig } from '@bulkhead/config';
import { ClusterRegistry, TenantProvisioner } from '@bulkhead/control-plane';
import { databaseNameFor, schemaNameFor } from '@bulkhead/database';
import { Injectable, Logger } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { LifecycleStore } from '../lifecycle.store';
import { StorageOperations } from './storage-operations';

export type WarmModel = 'schema' | 'silo';

export interface WarmEntry {
  id: string;
  cluster: string;
  model: WarmModel;
  name: string;
  status: 'creating' | 'ready' | 'claimed' | 'discarding';
  dataVersion: number;
}

interface WarmRow {
  id: string;
  cluster: string;
  model: WarmModel;
  name: string;
  status: WarmEntry['status'];
  data_version: number;
  updated_at: Date;
}

const toEntry = (row: WarmRow): WarmEntry => ({ id: row.id, cluster: row.cluster, model: row.model, name: row.name, status: row.status, dataVersion: row.data_version });
const COLUMNS = 'id, cluster, model, name, status, data_version, updated_at';
/** A `creating` entry untouched this long was left by a killed refill: it is provisioned again. */
const STALE_CREATING_MS = 60_000;

/**
 * Schemas and silo databases created and migrated ahead of demand, per cluster. A claim is one
 * conditional UPDATE (ready -> claimed, at the current data version, skipping rows another claim
 * holds), so two signups never get the same one; the claimant renames it to its tenant's name.
 * The worker refills it, brings entries to a new data version after an upgrade (or discards
 * those that will not migrate), and picks up entries a killed refill left half made.
 */
@Injectable()
export class WarmPool {
  private readonly logger = new Logger('WarmPool');

  constructor(
    private readonly store: LifecycleStore,
    private readonly clusters: ClusterRegistry,
    private readonly provisioner: TenantProvisioner,
    private readonly storage: StorageOperations,
    private readonly config: BulkheadConfig,
  ) {}

  /** The entry this tenant claimed before (a repeated step), or a fresh claim; null when the pool is empty. */
  async claim(cluster: string, model: WarmModel, tenantId: string): Promise<WarmEntry | null> {
    const previous = await this.store.query<WarmRow>(`SELECT ${COLUMNS} FROM lifecycle_warm_storage WHERE claimed_by = $1`, [tenantId]);
    if (previous[0]) return toEntry(previous[0]);
    const rows = await this.store.query<WarmRow>(
      `UPDATE lifecycle_warm_storage SET status = 'claimed', claimed_by = $4, updated_at = now()
        WHERE id = (SELECT id FROM lifecycle_warm_storage
                     WHERE cluster = $1 AND model = $2 AND status = 'ready' AND data_version = $3
                     ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
          AND status = 'ready'
        RETURNING ${COLUMNS}`,
      [cluster, model, this.provisioner.currentDataVersion(), tenantId],
    );
    return rows[0] ? toEntry(rows[0]) : null;
  }

  /** After a claimed entry was renamed to its tenant's name, or its claim was given up. */
  async forget(id: string): Promise<void> {
    await this.store.query('DELETE FROM lifecycle_warm_storage WHERE id = $1', [id]);
  }

  async counts(): Promise<Array<{ cluster: string; model: WarmModel; status: string; dataVersion: number; count: number }>> {
    const rows = await this.store.query<{ cluster: string; model: WarmModel; status: string; data_version: number; count: string }>(
      'SELECT cluster, model, status, data_version, count(*) AS count FROM lifecycle_warm_storage GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4',
    );
    return rows.map((row) => ({ cluster: row.cluster, model: row.model, status: row.status, dataVersion: row.data_version, count: Number(row.count) }));
  }

  /**
   * One refill round, under a session advisory lock so only one worker refills at a time: entries
   * behind the current data version are migrated (or discarded), half-made ones finished, and each
   * cluster topped up to LIFECYCLE_WARM_SCHEMAS schemas and LIFECYCLE_WARM_SILOS databases.
   */
  async refill(): Promise<{ created: number; upgraded: number; discarded: number }> {
    const result = { created: 0, upgraded: 0, discarded: 0 };
    const locked = await this.store.session(async (client) => {
      const lock = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock(hashtext('bulkhead-lifecycle-warm-pool')) AS locked");
      if (!lock.rows[0].locked) return false;
      try {
        await this.refillLocked(result);
      } finally {
        await client.query("SELECT pg_advisory_unlock(hashtext('bulkhead-lifecycle-warm-pool'))");
      }
      return true;
    });
    if (!locked) return result;
    return result;
  }

  private async refillLocked(result: { created: number; upgraded: number; discarded: number }): Promise<void> {
    const current = this.provisioner.currentDataVersion();
    const behind = await this.store.query<WarmRow>(
      `SELECT ${COLUMNS} FROM lifecycle_warm_storage
        WHERE (status = 'ready' AND data_version <> $1)
           OR (status = 'creating' AND updated_at < now() - make_interval(secs => $2::float8 / 1000))
           OR status = 'discarding'`,
      [current, STALE_CREATING_MS],
    );
    for (const row of behind) {
      const entry = toEntry(row);
      if (entry.status === 'discarding') {
        await this.discard(entry);
        result.discarded++;
        continue;
      }
      // Take it out of reach of claims while it changes.
      const taken = await this.store.query(
        "UPDATE lifecycle_warm_storage SET status = 'creating', updated_at = now() WHERE id = $1 AND status = $2 RETURNING id",
        [entry.id, entry.status],
      );
      if (!taken.length) continue;
      try {
        await this.provisionEntry(entry);
        result.upgraded++;
      } catch (error) {
        this.logger.warn({ err: error, warmId: entry.id }, 'warm storage could not be brought to the current data version; discarding it');
        await this.store.query("UPDATE lifecycle_warm_storage SET status = 'discarding', updated_at = now() WHERE id = $1", [entry.id]);
        await this.discard(entry);
        result.discarded++;
      }
    }
    for (const cluster of this.clusters.all()) {
      for (const [model, target] of [['schema', this.config.LIFECYCLE_WARM_SCHEMAS], ['silo', this.config.LIFECYCLE_WARM_SILOS]] as Array<[WarmModel, number]>) {
        const have = await this.store.query<{ count: string }>(
          "SELECT count(*) AS count FROM lifecycle_warm_storage WHERE cluster = $1 AND model = $2 AND status IN ('creating', 'ready')",
          [cluster.key, model],
        );
        for (let missing = target - Number(have[0].count); missing > 0; missing--) {
          const id = uuidv7();
          const name = model === 'schema' ? schemaNameFor(id) : databaseNameFor(id, cluster.database);
          const rows = await this.store.query<WarmRow>(
            `INSERT INTO lifecycle_warm_storage (id, cluster, model, name, status) VALUES ($1, $2, $3, $4, 'creating') RETURNING ${COLUMNS}`,
            [id, cluster.key, model, name],
          );
          await this.provisionEntry(toEntry(rows[0]));
          result.created++;
        }
      }
    }
  }

  private async provisionEntry(entry: WarmEntry): Promise<void> {
    const outcome = await this.provisioner.provision({
      id: entry.id,
      isolation: entry.model,
      cluster: entry.cluster,
      schemaName: entry.model === 'schema' ? entry.name : null,
      databaseName: entry.model === 'silo' ? entry.name : null,
    });
    await this.store.query(
      "UPDATE lifecycle_warm_storage SET status = 'ready', data_version = $2, updated_at = now() WHERE id = $1 AND status = 'creating'",
      [entry.id, outcome?.version ?? 0],
    );
  }

  private async discard(entry: WarmEntry): Promise<void> {
    if (entry.model === 'schema') await this.storage.dropSchema(entry.cluster, entry.name, entry.id);
    else await this.storage.dropDatabase(entry.cluster, entry.name);
    await this.forget(entry.id);
  }
}

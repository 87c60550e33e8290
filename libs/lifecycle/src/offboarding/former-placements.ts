import { ClusterRegistry, TenantRecord } from '@bulkhead/control-plane';
import { withPg } from '@bulkhead/database';
import { describePlacement, PlacementSpec, samePlacement } from '@bulkhead/tenant-moves';
import { Injectable } from '@nestjs/common';
import { LifecycleStore } from '../lifecycle.store';
import { StorageOperations } from '../warm-pool/storage-operations';
import { PlacementData } from './placement-data';

/** What is left of a tenant somewhere it does not live, by store name (`tenantBefore`/`tenantAfter` of the certificate). */
export type Leftovers = Record<string, number>;

/**
 * The placements the tenant's moves put its data on besides the one it lives on: each move's
 * source (dropped when the move finished) and target (dropped when it aborted), and the change
 * capture a move keeps beside its source (logged keys, its fence, its triggers). A move that ended
 * as it should left nothing there; the erasure takes whatever is left all the same and the
 * verification counts every one of them, so a certificate never calls a tenant erased while an
 * aborted move's target or a moved-from source still holds a copy.
 */
@Injectable()
export class FormerPlacements {
  constructor(
    private readonly store: LifecycleStore,
    private readonly clusters: ClusterRegistry,
    private readonly data: PlacementData,
    private readonly storage: StorageOperations,
  ) {}

  async count(tenant: TenantRecord): Promise<Leftovers> {
    const { former, captureClusters } = await this.placements(tenant);
    const counts: Leftovers = {};
    for (const spec of former) {
      const found = await this.data.counts(this.at(tenant, spec));
      const rows = Object.values(found.tables).reduce((sum, table) => sum + table.tenant, 0);
      // A schema or database of the tenant that still exists is a leftover, empty or not.
      counts[`postgres:former:${describePlacement(spec)}`] = rows + (spec.isolation !== 'pool' && found.storage ? 1 : 0);
    }
    for (const cluster of captureClusters) counts[`postgres:move-capture:${cluster}`] = await this.captured(tenant.id, cluster);
    for (const cluster of departedClusters(former)) counts[`postgres:departures:${cluster}`] = await this.departures(tenant.id, cluster);
    return counts;
  }

  /** Idempotent: each former placement's schema or database dropped, or its pool rows deleted (RLS-bound), and the logged keys and fence forgotten. */
  async erase(tenant: TenantRecord, waits: { schemaLockWaitMs?: number; siloDropWaitMs?: number } = {}): Promise<void> {
    const { former, captureClusters } = await this.placements(tenant);
    for (const spec of former) {
      if (spec.isolation === 'pool') await this.data.erasePoolRows(this.at(tenant, spec));
      else if (spec.isolation === 'schema') await this.storage.dropSchema(spec.cluster, spec.schemaName as string, tenant.id, waits.schemaLockWaitMs);
      else await this.storage.dropDatabase(spec.cluster, spec.databaseName as string, waits.siloDropWaitMs ?? 60_000);
    }
    for (const cluster of captureClusters) {
      await withPg(this.clusters.get(cluster).ownerUrl, 'bulkhead-lifecycle-erase', async (client) => {
        // A capture trigger a move left behind (its abort cut short): the verification counts
        // it, so the erasure drops it, one table at a time and never waiting long for its lock
        // (a failed attempt fails the step, which is retried).
        const triggers = await client.query<{ name: string; on: string }>(
          `SELECT quote_ident(t.tgname) AS name, format('%I.%I', n.nspname, c.relname) AS on
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE t.tgname LIKE $1`,
          [captureTriggerPattern(tenant.id)],
        );
        for (const trigger of triggers.rows) {
          await client.query(`BEGIN; SET LOCAL lock_timeout = '5s'; DROP TRIGGER IF EXISTS ${trigger.name} ON ${trigger.on}; COMMIT`).catch(async (error) => {
            await client.query('ROLLBACK').catch(() => undefined);
            throw error;
          });
        }
        if (!(await hasCapture(client))) return;
        await client.query('DELETE FROM bulkhead_move.changes WHERE tenant = $1', [tenant.id]);
        await client.query('DELETE FROM bulkhead_move.fences WHERE tenant = $1', [tenant.id]);
      });
    }
    // A pool the tenant left remembers it, to refuse a late write at its COMMIT; a deleted
    // tenant writes nothing any more, and its id must not outlive it there.
    for (const cluster of departedClusters(former)) {
      await withPg(this.clusters.get(cluster).ownerUrl, 'bulkhead-lifecycle-erase', (client) => client.query('DELETE FROM public.bulkhead_departures WHERE tenant = $1', [tenant.id]));
    }
  }

  private async placements(tenant: TenantRecord): Promise<{ former: PlacementSpec[]; captureClusters: string[] }> {
    const moves = await this.store.query<{ source: PlacementSpec; target: PlacementSpec }>('SELECT source, target FROM tenant_moves WHERE tenant = $1 ORDER BY created_at, id', [tenant.id]);
    const current: PlacementSpec = { isolation: tenant.isolation, cluster: tenant.cluster, schemaName: tenant.schemaName, databaseName: tenant.databaseName };
    const former: PlacementSpec[] = [];
    for (const spec of moves.flatMap((move) => [move.source, move.target])) {
      if (!samePlacement(spec, current) && !former.some((known) => samePlacement(known, spec))) former.push(spec);
    }
    // Capture sits beside a move's source: in the cluster's database for a pool or schema source
    // (a silo source's goes with its database).
    const captureClusters = [...new Set(moves.map((move) => move.source).filter((spec) => spec.isolation !== 'silo').map((spec) => spec.cluster))];
    return { former, captureClusters };
  }

  /** The tenant's logged keys and fence rows, and the capture triggers naming it, in one cluster's database. */
  private async captured(tenantId: string, cluster: string): Promise<number> {
    return withPg(this.clusters.get(cluster).ownerUrl, 'bulkhead-lifecycle-verify', async (client) => {
      const triggers = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_trigger WHERE tgname LIKE $1', [captureTriggerPattern(tenantId)]);
      if (!(await hasCapture(client))) return triggers.rows[0].n;
      const rows = await client.query<{ n: number }>(
        'SELECT (SELECT count(*) FROM bulkhead_move.changes WHERE tenant = $1) + (SELECT count(*) FROM bulkhead_move.fences WHERE tenant = $1) AS n',
        [tenantId],
      );
      return triggers.rows[0].n + Number(rows.rows[0].n);
    });
  }

  /** The rows of a pool's `bulkhead_departures` naming the tenant (it left that pool). */
  private async departures(tenantId: string, cluster: string): Promise<number> {
    return withPg(this.clusters.get(cluster).ownerUrl, 'bulkhead-lifecycle-verify', async (client) => {
      const found = await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM public.bulkhead_departures WHERE tenant = $1',
        [tenantId],
      );
      return found.rows[0].n;
    });
  }

  private at(tenant: TenantRecord, spec: PlacementSpec): TenantRecord {
    return { ...tenant, isolation: spec.isolation, cluster: spec.cluster, schemaName: spec.schemaName, databaseName: spec.databaseName };
  }
}

/** The clusters whose shared pool the tenant left (a former pool placement). */
function departedClusters(former: readonly PlacementSpec[]): string[] {
  return [...new Set(former.filter((spec) => spec.isolation === 'pool').map((spec) => spec.cluster))];
}

/** A LIKE pattern for the names of the capture triggers a move of the tenant installs (`bulkhead_move_<hex>_<op>`). */
function captureTriggerPattern(tenantId: string): string {
  return `bulkhead\\_move\\_${tenantId.replace(/-/g, '')}\\_%`;
}

async function hasCapture(client: { query: (sql: string) => Promise<{ rows: Array<{ present: boolean }> }> }): Promise<boolean> {
  const found = await client.query("SELECT to_regclass('bulkhead_move.fences') IS NOT NULL AND to_regclass('bulkhead_move.changes') IS NOT NULL AS present");
  return found.rows[0]?.present === true;
}

import { TenantRecord, TenantRepository } from '@bulkhead/control-plane';
import { currentTenant, TenantData } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { forEachTenant, hasData } from '../admin/fleet-usage.service';
import { MeterCatalog } from '../meters/meter.catalog';
import { billingPeriod } from '../usage/usage-period';

export interface MeterReconciliation {
  meter: string;
  sourceTotal: string | null;
  logTotal: string;
  rollupTotal: string;
  status: 'ok' | 'drift' | 'acknowledged';
}

/** One tenant; one page of tenants (`limit` from `after`); or, with neither, all of them. */
export interface TenantSelection {
  tenantId?: string;
  after?: string;
  limit?: number;
}

export interface TenantReconciliation {
  tenantId: string;
  slug: string;
  period: string;
  /** `drift` while any meter drifts unacknowledged: the period's export is blocked; `unavailable`: its placement could not be read. */
  status: 'ok' | 'drift' | 'unavailable';
  meters: MeterReconciliation[];
}

const AGGREGATIONS = ['count', 'sum', 'max', 'unique_count', 'latest'] as const;

/**
 * Compares, per tenant, meter and billing period, three numbers: the monthly rollup, the same
 * value recomputed from the event log, and (for recorded meters) the source of truth counted in
 * the tenant's own tables by the module that declared the meter. Drift is a rollup that differs
 * from its log, or a source total above the log (events lost: the tenant would be under-billed);
 * a source below the log is not drift (rows deleted after they were billed). Drift blocks the
 * tenant's export for the period until an operator acknowledges it; an acknowledged row stays so
 * while its numbers stay the same. Every read runs in the tenant's own context and placement.
 */
@Injectable()
export class UsageReconciler {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly data: TenantData,
    private readonly catalog: MeterCatalog,
  ) {}

  /** Every tenant with data, one tenant, or one page of tenants (see `TenantSelection`). */
  async reconcileAll(period: string, selection: TenantSelection = {}): Promise<{ tenants: TenantReconciliation[]; next: string | null }> {
    const tenants: TenantReconciliation[] = [];
    let next: string | null = null;
    for await (const page of this.tenantPages(selection)) {
      tenants.push(
        ...(await forEachTenant(
          page.tenants,
          'operator:reconcile',
          () => this.reconcileCurrent(period),
          (tenant) => ({ tenantId: tenant.id, slug: tenant.slug, period, status: 'unavailable' as const, meters: [] }),
        )),
      );
      next = page.next;
    }
    return { tenants, next };
  }

  /**
   * The tenants a fleet operation covers, in pages of at most 100 (by id): one tenant, one page
   * (`limit`, from `after`: what the operator API does, so no request walks the whole fleet), or
   * every page (the CLI and the scheduled job). `next` continues after the page.
   */
  async *tenantPages(selection: TenantSelection = {}): AsyncGenerator<{ tenants: TenantRecord[]; next: string | null }> {
    if (selection.tenantId) {
      const tenant = await this.tenants.findById(selection.tenantId);
      yield { tenants: tenant && hasData(tenant) ? [tenant] : [], next: null };
      return;
    }
    const limit = selection.limit ?? 100;
    let after = selection.after;
    for (;;) {
      const listed = await this.tenants.list({ after, limit });
      const next = listed.length === limit ? listed[listed.length - 1].id : null;
      yield { tenants: listed.filter(hasData), next };
      if (next === null || selection.limit !== undefined) return;
      after = next;
    }
  }

  /**
   * Reconciles the current context's tenant for `period` and stores the outcome: the sources are
   * counted first, then the log and the rollups in one statement (one snapshot), so an action
   * committed in between can only raise the log above the source, never make false drift.
   */
  async reconcileCurrent(period: string): Promise<TenantReconciliation> {
    const range = billingPeriod(period) as { from: Date; to: Date };
    const tenant = currentTenant();
    const meters = this.catalog.all();
    const sources = new Map<string, number | undefined>();
    for (const meter of meters) {
      const source = this.catalog.sourceOf(meter.name);
      if (source?.sourceTotal) sources.set(meter.name, await source.sourceTotal(meter.name, range));
    }
    const outcome = await this.data.transaction(async (tx) => {
      const found = await tx.statement<Record<string, string | null> & { meter: string }>(
        `WITH log AS (
           SELECT meter, count(*)::numeric AS count, coalesce(sum(value), 0) AS sum, max(value) AS max,
                  count(DISTINCT unique_key)::numeric AS unique_count, (array_agg(value ORDER BY occurred_at DESC, id DESC))[1] AS latest
             FROM usage_events WHERE tenant_id = $1 AND occurred_at >= $2 AND occurred_at < $3 GROUP BY meter
         ),
         roll AS (
           SELECT meter, event_count::numeric AS count, value_sum AS sum, value_max AS max, unique_count::numeric AS unique_count, latest_value AS latest
             FROM usage_rollup_totals WHERE tenant_id = $1 AND granularity = 'month' AND period_start = $2
         )
         SELECT coalesce(l.meter, r.meter) AS meter,
                ${AGGREGATIONS.map((a) => `trim_scale(l.${a})::text AS log_${a}, trim_scale(r.${a})::text AS roll_${a}`).join(', ')}
           FROM log l FULL JOIN roll r ON r.meter = l.meter`,
        [range.from.toISOString(), range.to.toISOString()],
      );
      const byMeter = new Map(found.map((row) => [row.meter, row]));
      const results: MeterReconciliation[] = [];
      for (const meter of meters) {
        const row = byMeter.get(meter.name);
        const source = sources.get(meter.name);
        if (!row && !source) continue;
        const logTotal = row?.[`log_${meter.aggregation}`] ?? '0';
        const rollupTotal = row?.[`roll_${meter.aggregation}`] ?? '0';
        const drifts = logTotal !== rollupTotal || (source !== undefined && source > Number(logTotal));
        results.push({ meter: meter.name, sourceTotal: source === undefined ? null : String(source), logTotal, rollupTotal, status: drifts ? 'drift' : 'ok' });
      }
      if (results.length === 0) return results;
      // Drift is stored, and so is every later check of a meter that drifted once (its history,
      // its acknowledgement); a clean check of a meter without history, or a check that changes
      // nothing, writes nothing: a fleet-wide run does not touch every healthy tenant's data.
      const stored = await tx.statement<{ meter: string; status: MeterReconciliation['status'] }>(
        `WITH checked AS (
           SELECT md5($2::text || '|' || m.meter)::uuid AS id, m.*
             FROM unnest($3::text[], $4::numeric[], $5::numeric[], $6::numeric[], $7::text[]) AS m(meter, source_total, log_total, rollup_total, status)
         ),
         known AS (SELECT r.id, r.status FROM usage_reconciliations r JOIN checked c ON r.tenant_id = $1 AND r.id = c.id)
         INSERT INTO usage_reconciliations AS r (tenant_id, id, period, meter, source_total, log_total, rollup_total, status)
         SELECT $1, c.id, $2, c.meter, c.source_total, c.log_total, c.rollup_total, c.status
           FROM checked c
          WHERE c.status = 'drift' OR EXISTS (SELECT 1 FROM known k WHERE k.id = c.id)
          ORDER BY c.id
         ON CONFLICT (tenant_id, id) DO UPDATE SET
           status = CASE WHEN r.status = 'acknowledged' AND EXCLUDED.status = 'drift'
                          AND r.source_total IS NOT DISTINCT FROM EXCLUDED.source_total AND r.log_total = EXCLUDED.log_total AND r.rollup_total = EXCLUDED.rollup_total
                         THEN 'acknowledged' ELSE EXCLUDED.status END,
           acknowledged_at = CASE WHEN EXCLUDED.status = 'ok' THEN NULL ELSE r.acknowledged_at END,
           source_total = EXCLUDED.source_total, log_total = EXCLUDED.log_total, rollup_total = EXCLUDED.rollup_total, checked_at = now()
          WHERE r.source_total IS DISTINCT FROM EXCLUDED.source_total OR r.log_total <> EXCLUDED.log_total OR r.rollup_total <> EXCLUDED.rollup_total
             OR (r.status = 'ok') <> (EXCLUDED.status = 'ok')
         RETURNING r.meter, r.status`,
        [period, results.map((r) => r.meter), results.map((r) => r.sourceTotal), results.map((r) => r.logTotal), results.map((r) => r.rollupTotal), results.map((r) => r.status)],
      );
      // Unchanged rows keep their stored status (an acknowledgement holds): read them back.
      const kept = await tx.statement<{ meter: string; status: MeterReconciliation['status'] }>(
        'SELECT meter, status FROM usage_reconciliations WHERE tenant_id = $1 AND period = $2 AND meter = ANY($3::text[])',
        [period, results.map((r) => r.meter)],
      );
      stored.push(...kept.filter((row) => !stored.some((s) => s.meter === row.meter)));
      const statusOf = new Map(stored.map((row) => [row.meter, row.status]));
      return results.map((r) => ({ ...r, status: statusOf.get(r.meter) ?? r.status }));
    });
    return { tenantId: tenant.tenantId, slug: tenant.slug, period, status: outcome.some((m) => m.status === 'drift') ? 'drift' : 'ok', meters: outcome };
  }

  /** Marks the current tenant's drifting meters of `period` acknowledged; how many (0 when none drifts). */
  async acknowledgeCurrent(period: string, by: string, note: string | undefined): Promise<number> {
    const rows = await this.data.transaction((tx) =>
      tx.statement(
        `UPDATE usage_reconciliations SET status = 'acknowledged', acknowledged_at = now(), acknowledged_by = $3, note = $4
          WHERE tenant_id = $1 AND period = $2 AND status = 'drift' RETURNING id`,
        [period, by, note ?? null],
      ),
    );
    return rows.length;
  }
}

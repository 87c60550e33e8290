import { TenantRecord } from '@bulkhead/control-plane';
import { TenantData } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { forEachTenant } from '../admin/fleet-usage.service';
import { MeterCatalog } from '../meters/meter.catalog';
import { billingPeriod } from '../usage/usage-period';
import { TenantSelection, UsageReconciler } from './usage-reconciler';

/** A Stripe v2 meter event (`POST /v2/billing/meter_events`), one JSON line of the export. */
export interface MeterEventLine {
  event_name: string;
  /** Our event's row id: unique per event and tenant, stable across re-runs. */
  identifier: string;
  timestamp: string;
  payload: { stripe_customer_id: string; value: string };
}

export interface TenantExport {
  tenantId: string;
  slug: string;
  /** `blocked`: unacknowledged drift; `unavailable`: its placement could not be read (nothing exported; run again). */
  status: 'exported' | 'blocked' | 'unavailable';
  events: MeterEventLine[];
}

/**
 * Stripe meters aggregate with sum, count or last: the meters exported are those whose events
 * those reproduce. `max` and `unique_count` meters stay in Bulkhead's reports only.
 */
export const EXPORTED_AGGREGATIONS = ['count', 'sum', 'latest'];

/** The customer a tenant's meter events name: its external reference (a Stripe customer id), else its id. */
export function billingCustomerOf(tenant: Pick<TenantRecord, 'id' | 'externalRef'>): string {
  return tenant.externalRef ?? tenant.id;
}

/**
 * A billing period's meter events per tenant, reconciled first: a tenant with unacknowledged drift
 * for the period is `blocked` and exports nothing. Deterministic: the same period gives the same
 * lines (ordered by time, then id), whatever runs it and however often.
 */
@Injectable()
export class BillingExportService {
  constructor(
    private readonly data: TenantData,
    private readonly catalog: MeterCatalog,
    private readonly reconciler: UsageReconciler,
  ) {}

  async exportPeriod(period: string, selection: TenantSelection = {}): Promise<{ exports: TenantExport[]; next: string | null }> {
    const exports: TenantExport[] = [];
    let next: string | null = null;
    for await (const page of this.reconciler.tenantPages(selection)) {
      exports.push(
        ...(await forEachTenant(
          page.tenants,
          'operator:billing-export',
          (tenant) => this.exportCurrent(tenant, period, { unsentOnly: false }),
          (tenant) => ({ tenantId: tenant.id, slug: tenant.slug, status: 'unavailable' as const, events: [] }),
        )),
      );
      next = page.next;
    }
    return { exports, next };
  }

  /** The current context's tenant's events of the period (only those not yet sent, if asked). */
  async exportCurrent(tenant: TenantRecord, period: string, options: { unsentOnly: boolean }): Promise<TenantExport> {
    const base = { tenantId: tenant.id, slug: tenant.slug };
    const reconciliation = await this.reconciler.reconcileCurrent(period);
    if (reconciliation.status === 'drift') return { ...base, status: 'blocked', events: [] };
    const range = billingPeriod(period) as { from: Date; to: Date };
    const meters = this.catalog.all().filter((meter) => EXPORTED_AGGREGATIONS.includes(meter.aggregation)).map((meter) => meter.name);
    const rows = await this.data.transaction(
      (tx) =>
        tx.statement<{ id: string; meter: string; occurred_at: Date; value: string }>(
          `SELECT e.id, e.meter, e.occurred_at, trim_scale(e.value)::text AS value FROM usage_events e
            WHERE e.tenant_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 AND e.meter = ANY($4::text[])
              ${options.unsentOnly ? 'AND NOT EXISTS (SELECT 1 FROM usage_billing_sends s WHERE s.tenant_id = e.tenant_id AND s.id = e.id)' : ''}
            ORDER BY e.occurred_at, e.id`,
          [range.from.toISOString(), range.to.toISOString(), meters],
        ),
      { readOnly: true },
    );
    const customer = billingCustomerOf(tenant);
    return {
      ...base,
      status: 'exported',
      events: rows.map((row) => ({
        event_name: row.meter,
        identifier: row.id,
        timestamp: new Date(row.occurred_at).toISOString(),
        payload: { stripe_customer_id: customer, value: row.value },
      })),
    };
  }

  /** Records events as handed to the billing provider, in the current tenant's placement. */
  async markSent(period: string, identifiers: string[]): Promise<void> {
    if (identifiers.length === 0) return;
    await this.data.transaction((tx) =>
      tx.statement(`INSERT INTO usage_billing_sends (tenant_id, id, period) SELECT $1, id, $2 FROM unnest($3::uuid[]) AS id ON CONFLICT (tenant_id, id) DO NOTHING`, [period, identifiers]),
    );
  }
}

export function toJsonLines(exports: TenantExport[]): string {
  return exports.flatMap((e) => e.events.map((line) => JSON.stringify(line) + '\n')).join('');
}

export function toCsv(exports: TenantExport[]): string {
  const header = 'tenant_id,event_name,identifier,timestamp,value,stripe_customer_id\n';
  const quote = (text: string) => (/[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  return (
    header +
    exports
      .flatMap((e) => e.events.map((l) => [e.tenantId, l.event_name, l.identifier, l.timestamp, l.payload.value, l.payload.stripe_customer_id].map(quote).join(',') + '\n'))
      .join('')
  );
}

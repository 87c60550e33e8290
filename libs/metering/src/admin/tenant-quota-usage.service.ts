import { TenantAdmin } from '@bulkhead/control-plane';
import { runWithTenant, TenantData, tenantContextOf } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { MeterCatalog } from '../meters/meter.catalog';
import { MeterDefinition } from '../meters/meter.definition';
import { TenantUsageUnavailableProblem } from '../metering.errors';
import { PlanCatalog, Quota, quotaMeasureOf } from '../quotas/plan.catalog';
import { VALUE_COLUMN } from '../query/usage-report.service';
import { nextPeriod, periodStart } from '../usage/usage-period';
import { MeterQuotaView, QuotaState, TenantQuotaUsageView } from './tenant-quota.dto';

/** The share of a quota from which a meter is reported `warning`: the quota alerts' first threshold. */
const WARNING_SHARE = 0.8;

/**
 * One tenant's usage of every meter this period against its plan's quotas, read like the tenant's
 * own requests read it: through `TenantData`, in the tenant's context, in its own placement, from
 * the rollups its writes keep exact. A capped meter reads the quota's measure (the event count of a
 * count meter, the sum otherwise) over the quota's period, as `UsageRecorder` enforces it.
 */
@Injectable()
export class TenantQuotaUsageService {
  constructor(
    private readonly tenants: TenantAdmin,
    private readonly data: TenantData,
    private readonly meters: MeterCatalog,
    private readonly plans: PlanCatalog,
  ) {}

  async of(tenantId: string, at = new Date()): Promise<TenantQuotaUsageView> {
    const tenant = await this.tenants.get(tenantId);
    if (tenant.status !== 'active' && tenant.status !== 'suspended') throw new TenantUsageUnavailableProblem(tenant.status);
    const month = periodStart(at, 'month');
    const day = periodStart(at, 'day');
    const rows = await runWithTenant(tenantContextOf(tenant, 'operator'), () =>
      this.data.transaction(
        (tx) =>
          tx.statement<Record<string, string | null> & { meter: string; granularity: 'day' | 'month' }>(
            `SELECT meter, granularity, event_count::text AS event_count, trim_scale(value_sum)::text AS value_sum, trim_scale(value_max)::text AS value_max,
                    unique_count::text AS unique_count, trim_scale(latest_value)::text AS latest_value
               FROM usage_rollup_totals
              WHERE tenant_id = $1 AND ((granularity = 'month' AND period_start = $2::timestamptz) OR (granularity = 'day' AND period_start = $3::timestamptz))`,
            [month.toISOString(), day.toISOString()],
          ),
        { readOnly: true },
      ),
    );
    const valueOf = (meter: string, per: 'day' | 'month', column: string): string => rows.find((row) => row.meter === meter && row.granularity === per)?.[column] ?? '0';
    const views = this.meters.all().map((meter): MeterQuotaView => {
      const quota = this.plans.quotaOf(tenant.tier, meter.name);
      const per = quota?.per ?? 'month';
      const start = periodStart(at, per);
      // The quota's measure is the one `UsageRecorder` enforces; without a quota, the meter's own aggregation.
      const used = valueOf(meter.name, per, quota ? quotaMeasureOf(meter) : VALUE_COLUMN[meter.aggregation]);
      return {
        meter: meter.name,
        aggregation: meter.aggregation,
        unit: meter.unit,
        origin: meter.origin,
        per,
        periodStart: start.toISOString(),
        resetsAt: nextPeriod(start, per).toISOString(),
        used,
        quota: quota?.limit ?? null,
        share: quota ? shareOf(Number(used), quota.limit) : null,
        state: stateOf(meter, quota, Number(used)),
      };
    });
    views.sort((a, b) => Number(b.quota !== null) - Number(a.quota !== null) || a.meter.localeCompare(b.meter));
    return { tenantId: tenant.id, tier: tenant.tier, at: at.toISOString(), meters: views };
  }
}

function stateOf(meter: MeterDefinition, quota: Quota | undefined, used: number): QuotaState {
  if (!quota) return 'no_quota';
  if (used > quota.limit) return 'over';
  // Ingested usage is never refused for a quota, so an ingested meter at its limit is not blocked.
  if (used >= quota.limit) return meter.origin === 'recorded' ? 'blocked' : 'warning';
  return used >= quota.limit * WARNING_SHARE ? 'warning' : 'ok';
}

/** Rounded to four places; a quota of 0 is all used from the start. */
function shareOf(used: number, limit: number): number {
  return limit === 0 ? 1 : Math.round((used / limit) * 10_000) / 10_000;
}

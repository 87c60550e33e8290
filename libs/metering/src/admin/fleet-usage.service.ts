import { TenantRecord, TenantRepository } from '@bulkhead/control-plane';
import { runWithTenant, TenantData, tenantContextOf } from '@bulkhead/tenancy';
import { Injectable, Logger } from '@nestjs/common';
import { MeterDefinition } from '../meters/meter.definition';
import { totalSql } from '../query/usage-report.service';
import { Granularity } from '../usage/usage-period';
import { TenantUsageView } from '../query/usage-query.dto';

const logger = new Logger('FleetUsage');

/** Tenants whose placements are read at once. */
const CONCURRENCY = 8;

/**
 * Runs `work` for each tenant of `tenants` in that tenant's own context, at most CONCURRENCY at
 * once: every read goes through `TenantData` to the tenant's placement (pool, schema or silo, on
 * any cluster), scoped by the application and by RLS like a request of that tenant. Cross-tenant
 * views are assembled here, from per-tenant answers tagged with the tenant; nothing reads raw
 * tenant tables with a role that bypasses RLS.
 */
export async function forEachTenant<T>(
  tenants: readonly TenantRecord[],
  actor: string,
  work: (tenant: TenantRecord) => Promise<T>,
  unavailable: (tenant: TenantRecord, error: unknown) => T,
): Promise<T[]> {
  const results: T[] = new Array(tenants.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(CONCURRENCY, tenants.length) }, async () => {
    while (next < tenants.length) {
      const index = next++;
      const tenant = tenants[index];
      // One placement that cannot answer (a silo being moved, a schema behind on migrations) is
      // reported as such; it does not take the rest of the fleet's answers down with it.
      results[index] = await runWithTenant(tenantContextOf(tenant, actor), () => work(tenant)).catch((error: unknown) => {
        logger.warn({ err: error, tenantId: tenant.id }, `${actor}: tenant placement unavailable`);
        return unavailable(tenant, error);
      });
    }
  });
  await Promise.all(lanes);
  return results;
}

/** Tenants with data to report: placed, not deleted. */
export function hasData(tenant: TenantRecord): boolean {
  return tenant.status === 'active' || tenant.status === 'suspended';
}

/** The operator's usage report across every tenant, in every model and cluster. */
@Injectable()
export class FleetUsageService {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly data: TenantData,
  ) {}

  async page(meter: MeterDefinition, granularity: Granularity, range: { from: Date; to: Date }, page: { after?: string; limit: number }): Promise<{ items: TenantUsageView[]; next: string | null }> {
    const listed = await this.tenants.list({ after: page.after, limit: page.limit });
    const reportable = listed.filter(hasData);
    const items = await forEachTenant<TenantUsageView>(reportable, 'operator', async (tenant) => {
      const [row] = await this.data.transaction(
        (tx) =>
          tx.statement<{ total: string | null; periods: string }>(
            `SELECT ${totalSql(meter)} AS total, count(*)::text AS periods FROM usage_rollup_totals
              WHERE tenant_id = $1 AND meter = $2 AND granularity = $3 AND period_start >= $4 AND period_start < $5`,
            [meter.name, granularity, range.from.toISOString(), range.to.toISOString()],
          ),
        { readOnly: true },
      );
      return { tenantId: tenant.id, slug: tenant.slug, tier: tenant.tier, isolation: tenant.isolation, status: 'ok' as const, total: row?.total ?? null, periods: Number(row?.periods ?? 0) };
    }, (tenant) => ({ tenantId: tenant.id, slug: tenant.slug, tier: tenant.tier, isolation: tenant.isolation, status: 'unavailable' as const, total: null, periods: 0 }));
    return { items, next: listed.length === page.limit ? listed[listed.length - 1].id : null };
  }
}

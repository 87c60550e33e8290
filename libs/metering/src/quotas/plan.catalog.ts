import { BulkheadConfig, TenantTier } from '@bulkhead/config';
import { Injectable } from '@nestjs/common';

/** One quota of a plan: at most `limit` of a meter's value per UTC day or month. */
export interface Quota {
  readonly meter: string;
  readonly limit: number;
  readonly per: 'day' | 'month';
}

/** The plan of each tier (METERING_PLANS): which meters are capped, and how much. */
@Injectable()
export class PlanCatalog {
  private readonly plans = new Map<TenantTier, Map<string, Quota>>();

  constructor(config: BulkheadConfig) {
    for (const tierPart of config.METERING_PLANS.split(';').map((part) => part.trim()).filter(Boolean)) {
      const [tier, quotas] = tierPart.split(':') as [TenantTier, string];
      const plan = new Map<string, Quota>();
      for (const quota of (quotas ?? '').split('|').filter(Boolean)) {
        const [, meter, limit, per] = /^(.+)=(\d+)\/(day|month)$/.exec(quota) as RegExpExecArray;
        plan.set(meter, Object.freeze({ meter, limit: Number(limit), per: per as Quota['per'] }));
      }
      this.plans.set(tier, plan);
    }
  }

  quotaOf(tier: TenantTier, meter: string): Quota | undefined {
    return this.plans.get(tier)?.get(meter);
  }

  quotasOf(tier: TenantTier): Quota[] {
    return [...(this.plans.get(tier)?.values() ?? [])];
  }
}

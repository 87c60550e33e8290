import { BulkheadConfig, TenantTier } from '@bulkhead/config';
import { Injectable } from '@nestjs/common';
import type { MeterDefinition } from '../meters/meter.definition';

/** One quota of a plan: at most `limit` of a meter's value per UTC day or month. */
export interface Quota {
  readonly meter: string;
  readonly limit: number;
  readonly per: 'day' | 'month';
}

/**
 * What a quota counts of its meter: the events of a count meter, the sum of any other. The write's
 * exact check (`usage_write`), the pre-check before a transaction and the operators' view of a
 * tenant's quotas all read this one measure.
 */
export function quotaMeasureOf(meter: Pick<MeterDefinition, 'aggregation'>): 'event_count' | 'value_sum' {
  return meter.aggregation === 'count' ? 'event_count' : 'value_sum';
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

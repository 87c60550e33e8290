import { DiscoveryService } from '@nestjs/core';
import { MeterDefinition } from './meter.definition';

/**
 * Marks a provider that declares meters (`MeterSource`). Meters live with the module whose action
 * they measure; metering discovers them, so it never imports a domain lib.
 */
export const MeterProvider = DiscoveryService.createDecorator<void>();

/** A billing period: `[from, to)` in UTC. */
export interface UsagePeriod {
  readonly from: Date;
  readonly to: Date;
}

export interface MeterSource {
  readonly meters: readonly MeterDefinition[];
  /**
   * The source of truth for a recorded meter over a period, counted from the tenant's own tables
   * (run in the tenant's context, through `TenantData`): what reconciliation compares the meter
   * with. Undefined for a meter without one.
   */
  sourceTotal?(meter: string, period: UsagePeriod): Promise<number | undefined>;
}

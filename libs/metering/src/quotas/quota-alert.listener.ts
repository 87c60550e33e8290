import { DiscoveryService } from '@nestjs/core';

/** A quota crossing 80% or 100% of its limit in one period, as recorded with the crossing write. */
export interface QuotaAlert {
  /** Stable: one per tenant, meter, period and threshold. */
  id: string;
  tenantId: string;
  meter: string;
  periodStart: string;
  threshold: 80 | 100;
  limit: number;
  used: number;
}

/**
 * Marks a provider that reacts to quota alerts (`QuotaAlertHandler`), e.g. to email the tenant or
 * offer an upgrade. Discovered by the worker; metering never imports the module that reacts.
 */
export const QuotaAlertListener = DiscoveryService.createDecorator<void>();

export interface QuotaAlertHandler {
  /**
   * Runs in the worker, in the alert's tenant context, after the crossing write committed (a
   * rolled-back write raises no alert). At least once: key what you do by `alert.id`.
   */
  onQuotaAlert(alert: QuotaAlert): Promise<void>;
}

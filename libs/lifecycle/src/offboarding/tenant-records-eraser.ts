import { DiscoveryService } from '@nestjs/core';

/**
 * Tenant records kept outside the tenant's placement and outside key names that carry its id:
 * rows of the control catalogue keyed by a `tenant` column (flag overrides, noisy-neighbour
 * history), fields of shared Redis hashes. Each lib that keeps some provides one; offboarding's
 * erase step erases through every one, and its verify step counts through them again for the
 * erasure certificate. Both idempotent: a step repeated after a crash erases what is left.
 */
export interface TenantRecordsEraser {
  /** The certificate's name for the store, e.g. `control:feature_flag_overrides`. */
  readonly store: string;
  count(tenantId: string): Promise<number>;
  /** Removes every record of the tenant; answers how many it removed. */
  erase(tenantId: string): Promise<number>;
  /**
   * Whether a Redis key naming the tenant is one of this store's records (counted by `count`):
   * the certificate's `redis:keys` leaves such keys out, so nothing is counted twice.
   */
  ownsKey?(key: string): boolean;
}

/** Marks a provider as a `TenantRecordsEraser`; offboarding discovers every one. */
export const TenantRecordsEraserProvider = DiscoveryService.createDecorator<void>();

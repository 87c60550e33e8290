import { DiscoveryService } from '@nestjs/core';

/**
 * A domain's starter data for a new tenant, run by onboarding inside the tenant's context (so it
 * writes through `TenantData` like any request), before the tenant is activated. Must be
 * idempotent: a killed onboarding runs it again (check before inserting, or key the rows).
 */
export interface TenantSeeder {
  readonly name: string;
  seed(tenant: { id: string; slug: string; name: string }): Promise<void>;
}

/** Marks a provider as a tenant seeder; onboarding discovers every one. */
export const TenantSeederProvider = DiscoveryService.createDecorator<void>();

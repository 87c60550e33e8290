import { currentTenant, peekTenantId, TenantContext } from '@bulkhead/tenancy';

/** The unit of work's tenant, or undefined outside one (flags then resolve to the caller's default). */
export function peekTenantContext(): TenantContext | undefined {
  return peekTenantId() === undefined ? undefined : currentTenant();
}

import { IsolationModel, TenantTier } from '@bulkhead/config';
import type { PlacedTenant } from '@bulkhead/control-plane';

/** Who is acting for which tenant, fixed for one request or one job. Never built from input. */
export interface TenantContext extends PlacedTenant {
  readonly tenantId: string;
  readonly slug: string;
  readonly tier: TenantTier;
  readonly isolation: IsolationModel;
  readonly region: string;
  /** Placement, as recorded in the registry: never guessed. */
  readonly cluster: string;
  readonly schemaName: string | null;
  readonly databaseName: string | null;
  readonly userId: string;
  readonly requestId?: string;
}

/** The context for a registry record and an acting user. */
export function tenantContextOf(
  tenant: {
    id: string;
    slug: string;
    tier: TenantTier;
    isolation: IsolationModel;
    region: string;
    cluster: string;
    schemaName: string | null;
    databaseName: string | null;
  },
  userId: string,
  requestId?: string,
): TenantContext {
  return {
    tenantId: tenant.id,
    slug: tenant.slug,
    tier: tenant.tier,
    isolation: tenant.isolation,
    region: tenant.region,
    cluster: tenant.cluster,
    schemaName: tenant.schemaName,
    databaseName: tenant.databaseName,
    userId,
    requestId,
  };
}

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
  /** How this context was reached, for the audit trail; never consulted to decide access. */
  readonly resolution?: TenantResolution;
}

/** The path from a request (or job) to its tenant and the boundary checks it passed. */
export interface TenantResolution {
  /** `token`: a verified token's claim; `job`: a job envelope written under a tenant context. */
  readonly via: 'token' | 'job' | 'impersonation';
  /** The claim's name and what it holds (`id` or the identity provider's `external_ref`). */
  readonly claim?: string;
  readonly claimRefersTo?: string;
  /** The caller's scopes, as verified. */
  readonly scopes?: readonly string[];
  /** Checks that admitted the unit of work, in order. */
  readonly checks: readonly string[];
  /** The job being run (`via: 'job'`). */
  readonly job?: { readonly name: string; readonly id: string; readonly attempt: number };
  /** When an operator acts inside the tenant: who, why, and whether writes were granted. */
  readonly impersonation?: { readonly operator: string; readonly grantId: string; readonly mode: 'read' | 'write'; readonly reason: string };
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
    placementVersion?: number;
  },
  userId: string,
  requestId?: string,
  resolution?: TenantResolution,
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
    ...(tenant.placementVersion !== undefined ? { placementVersion: tenant.placementVersion } : {}),
    userId,
    requestId,
    ...(resolution ? { resolution } : {}),
  };
}

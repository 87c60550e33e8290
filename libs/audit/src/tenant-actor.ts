import { TenantContext } from '@bulkhead/tenancy';
import { AuditActor } from './audit-event';

/** Who acts in a tenant context: the token's user, an operator impersonating, or a job. */
export function actorOf(tenant: TenantContext): AuditActor {
  const resolution = tenant.resolution;
  if (resolution?.impersonation) {
    return { kind: 'operator', subject: tenant.userId, scopes: resolution.scopes ?? [], impersonation: resolution.impersonation };
  }
  if (resolution?.via === 'job') return { kind: 'job', subject: tenant.userId };
  if (resolution?.via === 'token') return { kind: 'tenant_user', subject: tenant.userId, scopes: resolution.scopes ?? [] };
  return { kind: 'system', subject: tenant.userId };
}

/** The tenant resolution path: claim, registry record, placement model and cluster. */
export function resolutionOf(tenant: TenantContext): Record<string, unknown> {
  const resolution = tenant.resolution;
  return {
    via: resolution?.via ?? 'context',
    ...(resolution?.job ? { job: resolution.job } : {}),
    claim: resolution?.claim ?? null,
    claimRefersTo: resolution?.claimRefersTo ?? null,
    registry: { tenantId: tenant.tenantId, slug: tenant.slug, tier: tenant.tier, region: tenant.region },
    placement: { model: tenant.isolation, cluster: tenant.cluster, schema: tenant.schemaName, database: tenant.databaseName },
  };
}

/** The boundary checks behind every statement of a tenant transaction, after those that admitted it. */
export function boundaryOf(tenant: TenantContext): string[] {
  return [...(tenant.resolution?.checks ?? []), 'tenant_set_transaction_local', 'tenant_predicate', 'rls_forced'];
}

import type { Attributes } from '@opentelemetry/api';

/** The tenant of the unit of work as span attributes, or undefined outside one. */
export type SpanTenantSource = () => Attributes | undefined;

let source: SpanTenantSource = () => undefined;

/**
 * Set once by the app after its modules load: tracing starts before any of them (so pg, ioredis
 * and http are patched when first required), and so cannot import the tenancy lib itself.
 */
export function setSpanTenantSource(next: SpanTenantSource): void {
  source = next;
}

export function spanTenant(): Attributes | undefined {
  return source();
}

/** A tenant context's span attributes: the tenant and where its data lives. */
export function tenantAttributes(tenant: { tenantId: string; tier: string; isolation: string; cluster: string }): Attributes {
  return {
    'bulkhead.tenant_id': tenant.tenantId,
    'bulkhead.tenant.tier': tenant.tier,
    'bulkhead.placement.model': tenant.isolation,
    'bulkhead.placement.cluster': tenant.cluster,
  };
}

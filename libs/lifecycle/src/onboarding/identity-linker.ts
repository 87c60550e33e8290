import { TenantRecord } from '@bulkhead/control-plane';
import { Injectable } from '@nestjs/common';

/**
 * Links a new tenant to its organisation at the identity provider. The default accepts the
 * organisation id given at creation (`externalRef`, already in the registry, which tokens are
 * matched against with AUTH_TENANT_CLAIM_REFERS_TO=external_ref); bind `IDENTITY_LINKER` to create
 * the organisation at your provider instead. Must be idempotent.
 */
export interface IdentityLinker {
  link(tenant: TenantRecord): Promise<{ externalRef: string | null }>;
}

export const IDENTITY_LINKER = Symbol('bulkhead.lifecycle.identity-linker');

@Injectable()
export class RegistryIdentityLinker implements IdentityLinker {
  async link(tenant: TenantRecord): Promise<{ externalRef: string | null }> {
    return { externalRef: tenant.externalRef };
  }
}

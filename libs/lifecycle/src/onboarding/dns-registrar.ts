import { Injectable } from '@nestjs/common';
import { LifecycleStore } from '../lifecycle.store';

/**
 * Registers and removes a tenant's host name. The default records it in the control plane
 * (`lifecycle_hosts`), which suits a wildcard DNS record in front of the API; bind
 * `DNS_REGISTRAR` to your own to create records at a DNS provider. Both calls must be idempotent.
 */
export interface DnsRegistrar {
  /** False when the host belongs to another tenant. */
  register(host: string, tenantId: string): Promise<boolean>;
  remove(host: string, tenantId: string): Promise<void>;
}

export const DNS_REGISTRAR = Symbol('bulkhead.lifecycle.dns-registrar');

@Injectable()
export class ControlPlaneDnsRegistrar implements DnsRegistrar {
  constructor(private readonly store: LifecycleStore) {}

  async register(host: string, tenantId: string): Promise<boolean> {
    await this.store.query('INSERT INTO lifecycle_hosts (host, tenant) VALUES ($1, $2) ON CONFLICT (host) DO NOTHING', [host, tenantId]);
    const owner = await this.store.query<{ tenant: string }>('SELECT tenant FROM lifecycle_hosts WHERE host = $1', [host]);
    return owner[0]?.tenant === tenantId;
  }

  async remove(host: string, tenantId: string): Promise<void> {
    await this.store.query('DELETE FROM lifecycle_hosts WHERE host = $1 AND tenant = $2', [host, tenantId]);
  }
}

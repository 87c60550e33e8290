import { TenantRecord } from '@bulkhead/control-plane';
import { runWithTenant, tenantContextOf, TenantData } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { AuditChainer } from './audit-chainer';
import { AuditEvent } from './audit-event';
import { AuditTrail } from './audit-trail';
import { TenantKeyring } from './tenant-keyring';

/**
 * Crypto-shredding: destroys the tenant's data key, in the tenant's placement, so the personal data
 * sealed in its entries can never be read again, while every entry and hash stays (the chain still
 * verifies). The shred is itself an entry of the tenant's chain (committed with it) and of the
 * platform's. Irreversible: the database refuses to give a shredded tenant a key again.
 */
@Injectable()
export class CryptoShredder {
  constructor(
    private readonly data: TenantData,
    private readonly keyring: TenantKeyring,
    private readonly trail: AuditTrail,
    private readonly chainer: AuditChainer,
  ) {}

  async shred(tenant: TenantRecord, operator: { subject: string; scopes?: readonly string[] }, requestId?: string): Promise<{ shredded: boolean }> {
    const event: AuditEvent = {
      action: 'audit.key_shred',
      outcome: 'succeeded',
      actor: { kind: 'operator', subject: operator.subject, scopes: operator.scopes ?? [] },
      resource: { type: 'tenants', id: tenant.id },
      requestId: requestId ?? null,
    };
    const shredded = await runWithTenant(tenantContextOf(tenant, operator.subject, requestId), () =>
      this.data.transaction(async (tx) => {
        const done = await this.keyring.shred(tx);
        // Recorded after the key is gone: the operator's subject is dropped, not sealed, in this entry.
        await this.trail.record(tx, { ...event, outcome: done ? 'succeeded' : 'already_shredded' });
        return done;
      }),
    );
    await this.trail.recordPlatform([{ ...event, outcome: shredded ? 'succeeded' : 'already_shredded' }]);
    // Linked before returning: an erasure follows, and a chaining round after it would write the
    // tenant's chain head back (verification then finds it).
    await this.chainer.chainNow(tenantContextOf(tenant, operator.subject, requestId));
    return { shredded };
  }
}

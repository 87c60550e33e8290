import { BulkheadConfig } from '@bulkhead/config';
import { TenantRecord, TenantRegistry } from '@bulkhead/control-plane';
import type { Principal } from '@bulkhead/identity';
import { ImpersonationVerifier, VerifiedImpersonation } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { randomUUID, sign, verify } from 'node:crypto';
import { AuditEvent } from './audit-event';
import { AuditKeys } from './audit-key-file';
import { AuditTrail } from './audit-trail';

const PREFIX = 'bhi1';

interface GrantClaims {
  gid: string;
  tid: string;
  op: string;
  mode: 'read' | 'write';
  reason: string;
  iat: number;
  exp: number;
}

export interface IssuedGrant {
  grant: string;
  grantId: string;
  tenantId: string;
  mode: 'read' | 'write';
  expiresAt: string;
}

/**
 * Operator impersonation. A grant is a short-lived statement signed with the platform's Ed25519
 * key (not the identity provider's): one operator, one tenant, read or write, the reason, an expiry
 * of at most AUDIT_IMPERSONATION_MAX_SECONDS. It is useless alone: it is presented beside the same
 * operator's own token. Issuing it and every use of it are recorded, before anything else happens,
 * in the platform chain (the operator's trail) and in the tenant's chain, where the tenant reads them.
 */
@Injectable()
export class ImpersonationService implements ImpersonationVerifier {
  constructor(
    private readonly keys: AuditKeys,
    private readonly trail: AuditTrail,
    private readonly registry: TenantRegistry,
    private readonly config: BulkheadConfig,
  ) {}

  async issue(operator: Principal, tenant: TenantRecord, request: { mode: 'read' | 'write'; reason: string; ttlSeconds?: number; requestId?: string }): Promise<IssuedGrant> {
    const now = Math.floor(Date.now() / 1000);
    const ttl = Math.min(request.ttlSeconds ?? this.config.AUDIT_IMPERSONATION_MAX_SECONDS, this.config.AUDIT_IMPERSONATION_MAX_SECONDS);
    const claims: GrantClaims = { gid: randomUUID(), tid: tenant.id, op: operator.subject, mode: request.mode, reason: request.reason, iat: now, exp: now + ttl };
    await this.recordBoth(tenant, claims, 'impersonation.grant', 'granted', operator.scopes, request.requestId, { expiresAt: new Date(claims.exp * 1000).toISOString() });
    const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
    const signature = sign(null, Buffer.from(`${PREFIX}.${payload}`, 'utf8'), this.keys.signingKey).toString('base64url');
    return { grant: `${PREFIX}.${payload}.${signature}`, grantId: claims.gid, tenantId: tenant.id, mode: claims.mode, expiresAt: new Date(claims.exp * 1000).toISOString() };
  }

  async verify(grant: string, principal: Principal, request: { method: string; requestId?: string }): Promise<VerifiedImpersonation | null> {
    const claims = this.claimsOf(grant);
    if (!claims || claims.op !== principal.subject || claims.exp <= Date.now() / 1000 || claims.exp - claims.iat > this.config.AUDIT_IMPERSONATION_MAX_SECONDS) return null;
    const tenant = await this.registry.findById(claims.tid);
    if (!tenant) return null;
    await this.recordBoth(tenant, claims, 'impersonation.use', 'started', principal.scopes, request.requestId, { method: request.method });
    return { tenantId: claims.tid, grantId: claims.gid, operator: claims.op, mode: claims.mode, reason: claims.reason };
  }

  private claimsOf(grant: string): GrantClaims | null {
    const parts = grant.split('.');
    if (parts.length !== 3 || parts[0] !== PREFIX || grant.length > 4096) return null;
    try {
      if (!verify(null, Buffer.from(`${parts[0]}.${parts[1]}`, 'utf8'), this.keys.publicKey, Buffer.from(parts[2], 'base64url'))) return null;
      const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as GrantClaims;
      return typeof claims.tid === 'string' && typeof claims.op === 'string' && (claims.mode === 'read' || claims.mode === 'write') && Number.isFinite(claims.exp) ? claims : null;
    } catch {
      return null;
    }
  }

  private async recordBoth(tenant: TenantRecord, claims: GrantClaims, action: string, outcome: string, scopes: readonly string[], requestId: string | undefined, details: Record<string, unknown>): Promise<void> {
    const event: AuditEvent = {
      action,
      outcome,
      actor: { kind: 'operator', subject: claims.op, scopes, impersonation: { operator: claims.op, grantId: claims.gid, mode: claims.mode, reason: claims.reason } },
      resource: { type: 'tenants', id: tenant.id },
      requestId: requestId ?? null,
      boundary: ['token_verified', 'operator_scope', 'impersonation_grant_verified'],
      details: { ...details, tenantId: tenant.id },
    };
    await Promise.all([this.trail.recordPlatform([event]), this.trail.recordFor(tenant, [event])]);
  }
}

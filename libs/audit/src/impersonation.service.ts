import { BulkheadConfig } from '@bulkhead/config';
import { TenantRecord, TenantRegistry } from '@bulkhead/control-plane';
import type { Principal } from '@bulkhead/identity';
import { ImpersonationVerifier, runWithTenant, tenantContextOf, TenantData, TenantTransaction, VerifiedImpersonation } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { randomUUID, sign, verify } from 'node:crypto';
import { AuditEvent } from './audit-event';
import { AuditKeys } from './audit-key-file';
import { AuditTrail } from './audit-trail';
import { ImpersonationGrantNotFoundProblem } from './audit.errors';

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

/** A grant as its tenant's placement keeps it (never the signed grant itself, nor the reason: those are in the trails). */
export interface GrantRecord {
  grantId: string;
  tenantId: string;
  operator: string;
  mode: 'read' | 'write';
  issuedAt: string;
  expiresAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
}

interface GrantRow {
  id: string;
  tenant_id: string;
  operator: string;
  mode: 'read' | 'write';
  issued_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_by: string | null;
}

const GRANT_COLUMNS = 'id, tenant_id, operator, mode, issued_at, expires_at, revoked_at, revoked_by';

function toRecord(row: GrantRow): GrantRecord {
  return {
    grantId: row.id,
    tenantId: row.tenant_id,
    operator: row.operator,
    mode: row.mode,
    issuedAt: row.issued_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    revokedAt: row.revoked_at?.toISOString() ?? null,
    revokedBy: row.revoked_by,
  };
}

export interface IssuedGrant {
  grant: string;
  id: string;
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
 * Each grant is also a row in the tenant's placement, committed with the tenant's entry: any
 * operator can revoke it there, and a use is admitted only while that row stands unrevoked, so a
 * revocation holds on every instance from its commit.
 */
@Injectable()
export class ImpersonationService implements ImpersonationVerifier {
  constructor(
    private readonly keys: AuditKeys,
    private readonly trail: AuditTrail,
    private readonly registry: TenantRegistry,
    private readonly config: BulkheadConfig,
    private readonly data: TenantData,
  ) {}

  async issue(operator: Principal, tenant: TenantRecord, request: { mode: 'read' | 'write'; reason: string; ttlSeconds?: number; requestId?: string }): Promise<IssuedGrant> {
    const now = Math.floor(Date.now() / 1000);
    const ttl = Math.min(request.ttlSeconds ?? this.config.AUDIT_IMPERSONATION_MAX_SECONDS, this.config.AUDIT_IMPERSONATION_MAX_SECONDS);
    const claims: GrantClaims = { gid: randomUUID(), tid: tenant.id, op: operator.subject, mode: request.mode, reason: request.reason, iat: now, exp: now + ttl };
    await this.recordBoth(tenant, claims, 'impersonation.grant', 'granted', operator.scopes, request.requestId, { expiresAt: new Date(claims.exp * 1000).toISOString() }, async (tx) => {
      await tx.statement(
        'INSERT INTO audit_impersonation_grants (tenant_id, id, operator, mode, issued_at, expires_at) VALUES ($1, $2, $3, $4, to_timestamp($5), to_timestamp($6))',
        [claims.gid, claims.op, claims.mode, claims.iat, claims.exp],
      );
    });
    const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
    const signature = sign(null, Buffer.from(`${PREFIX}.${payload}`, 'utf8'), this.keys.signingKey).toString('base64url');
    return { grant: `${PREFIX}.${payload}.${signature}`, id: claims.gid, grantId: claims.gid, tenantId: tenant.id, mode: claims.mode, expiresAt: new Date(claims.exp * 1000).toISOString() };
  }

  async verify(grant: string, principal: Principal, request: { method: string; requestId?: string }): Promise<VerifiedImpersonation | null> {
    const claims = this.claimsOf(grant);
    if (!claims || claims.op !== principal.subject || claims.exp <= Date.now() / 1000 || claims.exp - claims.iat > this.config.AUDIT_IMPERSONATION_MAX_SECONDS) return null;
    const tenant = await this.registry.findById(claims.tid);
    if (!tenant) return null;
    if (tenant.status === 'deleted') {
      // Its grants and its trail went with its storage: refused, and said so in the platform trail only.
      await this.trail.recordPlatform([this.useEvent(tenant, claims, principal, request, 'tenant_erased')]);
      return null;
    }
    // The revocation check and the tenant's entry of this use share one transaction: a use is
    // either recorded as started under a standing grant, or recorded as refused.
    let standing = false;
    let refusal: string | undefined;
    await runWithTenant(tenantContextOf(tenant, 'audit'), () =>
      this.data.transaction(async (tx) => {
        const [row] = await tx.statement<{ revoked: boolean }>(
          'SELECT revoked_at IS NOT NULL AS revoked FROM audit_impersonation_grants WHERE tenant_id = $1 AND id = $2 AND operator = $3',
          [claims.gid, claims.op],
        );
        standing = row !== undefined && !row.revoked;
        refusal = standing ? undefined : row ? 'grant_revoked' : 'grant_unknown';
        await this.trail.recordAll(tx, [this.useEvent(tenant, claims, principal, request, refusal)]);
      }),
    );
    await this.trail.recordPlatform([this.useEvent(tenant, claims, principal, request, refusal)]);
    if (!standing) return null;
    return { tenantId: claims.tid, grantId: claims.gid, operator: claims.op, mode: claims.mode, reason: claims.reason };
  }

  /** The tenant's grants, newest first, revoked and expired ones included (the last 100). */
  async list(tenant: TenantRecord): Promise<GrantRecord[]> {
    return runWithTenant(tenantContextOf(tenant, 'operator'), () =>
      this.data.transaction(async (tx) => {
        const rows = await tx.statement<GrantRow>(
          `SELECT ${GRANT_COLUMNS} FROM audit_impersonation_grants WHERE tenant_id = $1 ORDER BY issued_at DESC, id LIMIT 100`,
        );
        return rows.map(toRecord);
      }, { readOnly: true }),
    );
  }

  /**
   * Withdraws a grant at once, whoever issued it; revoking it again changes nothing and answers
   * the first revocation. Recorded in both trails, the tenant's in the revoking transaction.
   */
  async revoke(operator: Principal, tenant: TenantRecord, grantId: string, requestId?: string): Promise<GrantRecord> {
    const outcome = await runWithTenant(tenantContextOf(tenant, 'audit'), () =>
      this.data.transaction(async (tx) => {
        const [revoked] = await tx.statement<GrantRow>(
          `UPDATE audit_impersonation_grants SET revoked_at = now(), revoked_by = $3
            WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING ${GRANT_COLUMNS}`,
          [grantId, operator.subject],
        );
        if (revoked) {
          const record = toRecord(revoked);
          await this.trail.recordAll(tx, [this.revocationEvent(operator, tenant, record, requestId)]);
          return { record, now: true };
        }
        const [earlier] = await tx.statement<GrantRow>(`SELECT ${GRANT_COLUMNS} FROM audit_impersonation_grants WHERE tenant_id = $1 AND id = $2`, [grantId]);
        if (!earlier) throw new ImpersonationGrantNotFoundProblem();
        return { record: toRecord(earlier), now: false };
      }),
    );
    // A repeated revocation changes nothing; the operator route's own entry records the attempt.
    if (outcome.now) await this.trail.recordPlatform([this.revocationEvent(operator, tenant, outcome.record, requestId)]);
    return outcome.record;
  }

  private useEvent(tenant: TenantRecord, claims: GrantClaims, principal: Principal, request: { method: string; requestId?: string }, refusal: string | undefined): AuditEvent {
    const details = refusal ? { method: request.method, refusal } : { method: request.method };
    return this.eventOf(tenant, claims, 'impersonation.use', refusal ? 'refused' : 'started', principal.scopes, request.requestId, details);
  }

  private revocationEvent(operator: Principal, tenant: TenantRecord, grant: GrantRecord, requestId: string | undefined): AuditEvent {
    return {
      action: 'impersonation.revoke',
      outcome: 'succeeded',
      actor: { kind: 'operator', subject: operator.subject, scopes: operator.scopes },
      resource: { type: 'impersonation_grants', id: grant.grantId },
      requestId: requestId ?? null,
      boundary: ['token_verified', 'operator_scope'],
      details: { tenantId: tenant.id, grantOperator: grant.operator, mode: grant.mode, revokedAt: grant.revokedAt, revokedBy: grant.revokedBy },
    };
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

  /** In the tenant's chain, together with `alongside` (in the same transaction), and in the platform chain. */
  private async recordBoth(
    tenant: TenantRecord,
    claims: GrantClaims,
    action: string,
    outcome: string,
    scopes: readonly string[],
    requestId: string | undefined,
    details: Record<string, unknown>,
    alongside: (tx: TenantTransaction) => Promise<void>,
  ): Promise<void> {
    const event = this.eventOf(tenant, claims, action, outcome, scopes, requestId, details);
    await runWithTenant(tenantContextOf(tenant, 'audit'), () =>
      this.data.transaction(async (tx) => {
        await alongside(tx);
        await this.trail.recordAll(tx, [event]);
      }),
    );
    await this.trail.recordPlatform([event]);
  }

  private eventOf(tenant: TenantRecord, claims: GrantClaims, action: string, outcome: string, scopes: readonly string[], requestId: string | undefined, details: Record<string, unknown>): AuditEvent {
    return {
      action,
      outcome,
      actor: { kind: 'operator', subject: claims.op, scopes, impersonation: { operator: claims.op, grantId: claims.gid, mode: claims.mode, reason: claims.reason } },
      resource: { type: 'tenants', id: tenant.id },
      requestId: requestId ?? null,
      boundary: ['token_verified', 'operator_scope', 'impersonation_grant_verified'],
      details: { ...details, tenantId: tenant.id },
    };
  }
}

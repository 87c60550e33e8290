import type { Principal } from '@bulkhead/identity';

/** The header an operator sends, beside its own operator token, to act inside one tenant. */
export const IMPERSONATION_HEADER = 'x-impersonation-grant';

/** The injection token of the app's `ImpersonationVerifier` (`@bulkhead/audit` provides it). */
export const IMPERSONATION_VERIFIER = Symbol.for('bulkhead.impersonation-verifier');

export interface VerifiedImpersonation {
  readonly tenantId: string;
  readonly grantId: string;
  readonly operator: string;
  readonly mode: 'read' | 'write';
  readonly reason: string;
}

/**
 * Checks an impersonation grant against the operator presenting it and records the use before the
 * request runs; returns null for anything not valid (forged, expired, another operator's).
 */
export interface ImpersonationVerifier {
  verify(grant: string, principal: Principal, request: { method: string; requestId?: string }): Promise<VerifiedImpersonation | null>;
}

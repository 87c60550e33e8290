import { BulkheadConfig } from '@bulkhead/config';
import { DevIssuer } from '@bulkhead/identity';
import { REQUEST_ID_HEADER } from '@bulkhead/observability';
import { currentTenant, IMPERSONATION_HEADER } from '@bulkhead/tenancy';
import { injectTraceHeaders } from '@bulkhead/tracing';
import { Injectable } from '@nestjs/common';
import { callerAuthorization, callerImpersonationGrant } from './caller-credentials';
import { ImpersonationNotDelegableProblem, ServiceCredentialsUnavailableProblem } from './service-client.errors';

export interface ServiceRequest {
  readonly method?: string;
  /** Sent as JSON. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * `caller`: the request's own bearer token (the callee sees the same user and tenant);
   * `minted`: a token minted for this tenant and user, valid `MINTED_TOKEN_SECONDS`.
   */
  readonly credentials: 'caller' | 'minted';
  readonly timeoutMs?: number;
}

/** Minted service tokens live a minute: long enough for one call and its retries, useless if leaked. */
export const MINTED_TOKEN_SECONDS = 60;
const TENANT_HEADER = 'x-tenant-id';
/** Set by the client alone, from the context: never taken from the calling code's headers. */
const OWN_HEADERS = new Set(['authorization', TENANT_HEADER, IMPERSONATION_HEADER]);

/**
 * Calls another Bulkhead service on behalf of the current unit of work's tenant. The callee admits
 * the call through its own guards like any request: the bearer token names the tenant (the
 * caller's own, or one minted for the tenant), `X-Tenant-Id` names it too (a mismatch is a 403
 * there), and W3C trace context (`traceparent`) and the request id carry the trace across. The
 * tenant comes only from the context: without one, the call throws before anything is sent.
 *
 * Minting needs the issuer the callee trusts; this version mints with the development issuer
 * (DEV_ISSUER), so in production use `credentials: 'caller'` or put your identity provider's
 * token exchange in front.
 */
@Injectable()
export class TenantServiceClient {
  private readonly issuer: DevIssuer | undefined;

  constructor(config: BulkheadConfig) {
    this.issuer = config.DEV_ISSUER ? new DevIssuer(config) : undefined;
  }

  async request(url: string, request: ServiceRequest): Promise<Response> {
    const tenant = currentTenant();
    // Names in lower case: header names are case-insensitive, and the calling code's `X-Tenant-Id`
    // (or `Authorization`) was sent beside the client's own rather than replaced by it.
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers ?? {})) if (!OWN_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
    headers.accept = 'application/json';
    headers[TENANT_HEADER] = tenant.tenantId;
    const impersonating = tenant.resolution?.impersonation !== undefined;
    headers.authorization = this.authorization(request.credentials, tenant.tenantId, tenant.userId, impersonating);
    // An operator's token admits nothing inside a tenant alone: the callee checks the same grant
    // (its mode, expiry and revocation) and records this use of it too.
    if (impersonating) headers[IMPERSONATION_HEADER] = this.grant();
    if (tenant.requestId) headers[REQUEST_ID_HEADER] = tenant.requestId;
    injectTraceHeaders(headers);
    let body: string | undefined;
    if (request.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.body);
    }
    return fetch(url, { method: request.method ?? 'GET', headers, body, signal: AbortSignal.timeout(request.timeoutMs ?? 10_000) });
  }

  private authorization(credentials: ServiceRequest['credentials'], tenantId: string, userId: string, impersonating: boolean): string {
    // A minted tenant token would carry none of the grant's bounds: a read grant would write.
    if (impersonating && credentials === 'minted') throw new ImpersonationNotDelegableProblem();
    if (credentials === 'caller') {
      const own = callerAuthorization();
      if (!own) throw new ServiceCredentialsUnavailableProblem('This unit of work has no caller token to forward.');
      return own;
    }
    if (!this.issuer) throw new ServiceCredentialsUnavailableProblem('No issuer to mint a service token with.');
    return `Bearer ${this.issuer.mint({ subject: userId, tenantId, expiresInSeconds: MINTED_TOKEN_SECONDS, claims: { act: { sub: 'bulkhead-service' } } })}`;
  }

  private grant(): string {
    const grant = callerImpersonationGrant();
    if (!grant) throw new ServiceCredentialsUnavailableProblem('This unit of work has no impersonation grant to forward.');
    return grant;
  }
}

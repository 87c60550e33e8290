import { BulkheadConfig } from '@bulkhead/config';
import { OverloadedProblem, TenantRegistry } from '@bulkhead/control-plane';
import { AuthenticatedRequest, OPERATOR_ROUTE, PUBLIC_ROUTE, RouteAccess } from '@bulkhead/identity';
import { ApiProblem } from '@bulkhead/openapi';
import { PlacementOutdatedProblem, ServiceUnavailableProblem } from '@bulkhead/problem';
import { CanActivate, ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { tenantContextOf } from '../context/tenant-context';
import { establishTenant } from '../context/tenant-context.store';
import {
  ImpersonationReadOnlyProblem,
  ImpersonationRefusedProblem,
  TenantMismatchProblem,
  TenantRequiredProblem,
  TenantSuspendedProblem,
  TenantUnavailableProblem,
} from './access.errors';
import { IMPERSONATION_HEADER, IMPERSONATION_VERIFIER, ImpersonationVerifier, VerifiedImpersonation } from './impersonation';

const READ_METHODS = new Set(['GET', 'HEAD']);

export const TENANT_HEADER = 'x-tenant-id';

/** Letters, digits, dots and hyphens, or an IPv6 literal. */
const PLAIN_HOST = /^([a-z0-9.-]+|\[[0-9a-f:.]+\])$/;

/**
 * Global and second, after authentication (which also holds operator routes to operator tokens).
 * Every route that is neither public nor an operator route needs a token whose tenant exists and
 * is active. A tenant named by
 * the request itself (subdomain of the base domain, or the X-Tenant-Id header) must be the token's
 * tenant. Only then is the tenant context established, once, for the rest of the request.
 */
@Injectable()
@ApiProblem(TenantRequiredProblem, { unless: OPERATOR_ROUTE })
@ApiProblem(TenantUnavailableProblem, { unless: OPERATOR_ROUTE })
@ApiProblem(TenantSuspendedProblem, { unless: OPERATOR_ROUTE })
@ApiProblem(TenantMismatchProblem, { unless: OPERATOR_ROUTE })
@ApiProblem(ImpersonationRefusedProblem, { unless: OPERATOR_ROUTE })
@ApiProblem(ImpersonationReadOnlyProblem, { unless: OPERATOR_ROUTE, methods: ['post', 'put', 'patch', 'delete'] })
// Not thrown here, but every request admitted into a tenant context takes its connections through the gated router.
@ApiProblem(new OverloadedProblem('Too many concurrent requests for this tenant.'), { unless: OPERATOR_ROUTE })
// Every route past authentication reads the registry or tenant data: PostgreSQL down answers 503.
@ApiProblem(ServiceUnavailableProblem, { unless: PUBLIC_ROUTE })
@ApiProblem(PlacementOutdatedProblem, { unless: OPERATOR_ROUTE })
export class TenantGuard implements CanActivate {
  /** Regions with a cluster here, known at start: no scan of the clusters per request. */
  private readonly servedRegions: ReadonlySet<string>;

  constructor(
    private readonly access: RouteAccess,
    private readonly registry: TenantRegistry,
    private readonly config: BulkheadConfig,
    @Optional() @Inject(IMPERSONATION_VERIFIER) private readonly impersonation?: ImpersonationVerifier,
  ) {
    this.servedRegions = new Set(config.clusters.map((cluster) => cluster.region));
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.access.of(context);
    if (rule.public || rule.operator) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = request.user;
    if (!principal) throw new TenantRequiredProblem();

    const grant = request.headers[IMPERSONATION_HEADER];
    let impersonation: VerifiedImpersonation | undefined;
    if (grant !== undefined) {
      // Only an operator token without a tenant may carry a grant: a tenant can never impersonate.
      if (!principal.operator || principal.tenantId !== undefined || !this.impersonation || typeof grant !== 'string') throw new ImpersonationRefusedProblem();
      impersonation = (await this.impersonation.verify(grant, principal, { method: request.method, requestId: typeof request.id === 'string' ? request.id : undefined })) ?? undefined;
      if (!impersonation) throw new ImpersonationRefusedProblem();
      if (impersonation.mode === 'read' && !READ_METHODS.has(request.method)) throw new ImpersonationReadOnlyProblem();
    } else if (principal.tenantId === undefined) throw new TenantRequiredProblem();
    const tenant = impersonation ? await this.registry.findById(impersonation.tenantId) : await this.registry.resolveClaim(principal.tenantId!);
    if (!tenant || tenant.status === 'deleted' || tenant.status === 'provisioning') throw new TenantUnavailableProblem();
    if (tenant.status === 'suspended') throw new TenantSuspendedProblem();
    // A tenant whose region has no cluster here (a registry shared with another deployment, or a
    // cluster removed from the configuration) is not this deployment's to serve.
    if (!this.servedRegions.has(tenant.region)) throw new TenantUnavailableProblem();

    const checks = [...(impersonation ? ['token_verified', 'operator_scope', 'impersonation_grant_verified'] : ['token_verified']), 'tenant_registered', 'tenant_active', 'tenant_region'];
    const header = request.headers[TENANT_HEADER];
    if (header !== undefined) {
      const named = Array.isArray(header) ? header : [header];
      // Ids and slugs are stored in lower case, and hosts are compared so: a header in capitals names the same tenant.
      const isThisTenant = (value: string) => value.toLowerCase() === tenant.id || value.toLowerCase() === tenant.slug;
      if (!named.every(isThisTenant)) throw new TenantMismatchProblem();
      checks.push('tenant_header_matches');
    }
    // The Host header, and the request target's own host when it is in absolute form
    // (`GET http://<host>/...`, which RFC 9112 says wins over Host): each that names a tenant must name this one.
    const subdomains = hostsOf(request).map((hostname) => this.subdomainOf(hostname)).filter((label): label is string => label !== undefined);
    if (subdomains.some((label) => label !== tenant.slug)) throw new TenantMismatchProblem();
    if (subdomains.length > 0) checks.push('tenant_host_matches');

    establishTenant(
      tenantContextOf(tenant, principal.subject, typeof request.id === 'string' ? request.id : undefined, {
        via: impersonation ? 'impersonation' : 'token',
        ...(impersonation ? { impersonation: { operator: impersonation.operator, grantId: impersonation.grantId, mode: impersonation.mode, reason: impersonation.reason } } : {}),
        claim: this.config.AUTH_TENANT_CLAIM,
        claimRefersTo: this.config.AUTH_TENANT_CLAIM_REFERS_TO,
        scopes: principal.scopes,
        checks,
      }),
    );
    return true;
  }

  /** The tenant label of `<slug>.<base domain>`, or undefined when the host names no tenant. */
  private subdomainOf(hostname: string | undefined): string | undefined {
    const base = this.config.TENANT_BASE_DOMAIN;
    if (!base || !hostname) return undefined;
    // `b.example.` is `b.example` written as an absolute name (DNS and HTTP accept both).
    const host = hostname.toLowerCase().replace(/\.+$/, '');
    // Anything but a plain name or address (other dots, bytes outside ASCII) could spell a tenant's
    // host in a way the suffix check misses: refused rather than taken as naming no tenant.
    if (!PLAIN_HOST.test(host)) throw new TenantMismatchProblem();
    if (!host.endsWith('.' + base)) return undefined;
    return host.slice(0, -(base.length + 1));
  }
}

/** The host names a request carries: its Host header's and, for an absolute-form target, the target's. */
function hostsOf(request: AuthenticatedRequest): string[] {
  const hosts = request.hostname ? [request.hostname] : [];
  const target = request.raw?.url;
  if (target !== undefined && /^https?:\/\//i.test(target)) {
    try {
      hosts.push(new URL(target).hostname);
    } catch {
      throw new TenantMismatchProblem();
    }
  }
  return hosts;
}

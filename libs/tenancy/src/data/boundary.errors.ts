/** The data-access API refused something that would cross the tenant boundary: a bug, never a client error. */
export class TenantBoundaryViolationError extends Error {
  readonly code = 'tenant_boundary_violation';

  constructor(detail: string) {
    super(`Tenant boundary violation: ${detail}`);
    this.name = 'TenantBoundaryViolationError';
  }
}

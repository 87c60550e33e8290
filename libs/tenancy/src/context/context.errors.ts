/** Thrown by a context accessor used where no tenant was established: a bug, never a client error. */
export class TenantContextMissingError extends Error {
  readonly code = 'tenant_context_missing';

  constructor(what = 'tenant') {
    super(`No ${what} context is established here; tenant data cannot be reached outside a tenant context`);
    this.name = 'TenantContextMissingError';
  }
}

export class TenantContextImmutableError extends Error {
  readonly code = 'tenant_context_immutable';

  constructor() {
    super('The tenant context is already established for this unit of work and cannot be replaced');
    this.name = 'TenantContextImmutableError';
  }
}

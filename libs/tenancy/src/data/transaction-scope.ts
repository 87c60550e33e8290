import { currentUnitOfWork, runWithScope } from '../context/tenant-context.store';
import { TenantBoundaryViolationError } from './boundary.errors';
import { TenantQueryRunner } from './tenant-query-runner';

/** The open transaction of a request-wide unit of work, which every data access in it joins. */
export interface TransactionScope {
  readonly tenantId: string;
  readonly runner: TenantQueryRunner;
}

/** The scope joined by `TenantData` calls, or none; one of another tenant is a bug and throws. */
export function joinedScope(tenantId: string): TransactionScope | undefined {
  const scope = currentUnitOfWork()?.scope;
  if (scope && scope.tenantId !== tenantId) throw new TenantBoundaryViolationError('a transaction scope of another tenant is open');
  return scope;
}

/**
 * Runs `work` in a child unit of work (a copy of the current one, so the tenant carries over)
 * holding `scope`: the scope ends with `work`, and nothing outside it sees the scope.
 */
export function runInScope<T>(scope: TransactionScope, work: () => Promise<T>): Promise<T> {
  const current = currentUnitOfWork();
  if (!current) throw new TenantBoundaryViolationError('a transaction scope needs an active context');
  if (current.scope !== undefined) throw new TenantBoundaryViolationError('transaction scopes do not nest');
  return runWithScope(scope, work);
}

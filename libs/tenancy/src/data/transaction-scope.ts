import { ClsServiceManager } from 'nestjs-cls';
import { TenantBoundaryViolationError } from './boundary.errors';
import { TenantQueryRunner } from './tenant-query-runner';

const SCOPE_KEY = Symbol.for('bulkhead.transaction-scope');

/** The open transaction of a request-wide unit of work, which every data access in it joins. */
export interface TransactionScope {
  readonly tenantId: string;
  readonly runner: TenantQueryRunner;
}

/** The scope joined by `TenantData` calls, or none; one of another tenant is a bug and throws. */
export function joinedScope(tenantId: string): TransactionScope | undefined {
  const cls = ClsServiceManager.getClsService();
  const scope = cls.isActive() ? cls.get<TransactionScope | undefined>(SCOPE_KEY) : undefined;
  if (scope && scope.tenantId !== tenantId) throw new TenantBoundaryViolationError('a transaction scope of another tenant is open');
  return scope;
}

/**
 * Runs `work` in a child context (a copy of the current one, so the tenant carries over) holding
 * `scope`: the scope ends with `work`, and nothing outside it sees the scope.
 */
export function runInScope<T>(scope: TransactionScope, work: () => Promise<T>): Promise<T> {
  const cls = ClsServiceManager.getClsService();
  if (!cls.isActive()) throw new TenantBoundaryViolationError('a transaction scope needs an active context');
  if (cls.get(SCOPE_KEY) !== undefined) throw new TenantBoundaryViolationError('transaction scopes do not nest');
  return cls.run({ ifNested: 'inherit' }, () => {
    cls.set(SCOPE_KEY, scope);
    return work();
  });
}

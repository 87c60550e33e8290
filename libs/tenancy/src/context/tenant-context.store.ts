import { ClsServiceManager } from 'nestjs-cls';
import { TenantContextImmutableError, TenantContextMissingError } from './context.errors';
import { TenantContext } from './tenant-context';

const TENANT_KEY = Symbol.for('bulkhead.tenant');

/**
 * The tenant of the current unit of work (request or job), carried by AsyncLocalStorage through
 * nestjs-cls. Throws when there is none: code that reaches tenant data without a tenant is a bug,
 * and the only safe answer is to stop.
 */
export function currentTenant(): TenantContext {
  const cls = ClsServiceManager.getClsService();
  const tenant = cls.isActive() ? cls.get<TenantContext | undefined>(TENANT_KEY) : undefined;
  if (!tenant) throw new TenantContextMissingError();
  return tenant;
}

/** For log enrichment only: never use it to decide access. */
export function peekTenantId(): string | undefined {
  const cls = ClsServiceManager.getClsService();
  return cls.isActive() ? cls.get<TenantContext | undefined>(TENANT_KEY)?.tenantId : undefined;
}

/** Sets the tenant once for the active context; a second attempt is refused. */
export function establishTenant(tenant: TenantContext): void {
  const cls = ClsServiceManager.getClsService();
  if (!cls.isActive()) throw new TenantContextMissingError('request');
  if (cls.get(TENANT_KEY) !== undefined) throw new TenantContextImmutableError();
  cls.set(TENANT_KEY, Object.freeze({ ...tenant }));
}

/** Runs `work` in a fresh context holding only `tenant` (jobs, CLI, tests): nothing leaks in or out. */
export function runWithTenant<T>(tenant: TenantContext, work: () => Promise<T>): Promise<T> {
  const cls = ClsServiceManager.getClsService();
  return cls.run({ ifNested: 'override' }, () => {
    cls.set(TENANT_KEY, Object.freeze({ ...tenant }));
    return work();
  });
}

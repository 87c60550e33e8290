import { currentUnit, runInUnit } from '@bulkhead/async-context';
import type { TransactionScope } from '../data/transaction-scope';
import { TenantContextImmutableError, TenantContextMissingError } from './context.errors';
import { TenantContext } from './tenant-context';

/** What one request or job carries through AsyncLocalStorage. */
export interface UnitOfWork {
  /** The request's id (a job's comes with its tenant context). */
  readonly requestId?: string;
  /** Set once, by the tenant guard or by whoever runs a job: never replaced. */
  tenant?: TenantContext;
  /** The request-wide transaction every data access joins, while one is open. */
  readonly scope?: TransactionScope;
  /** What platform features keep for the unit (the audit trail's request intent), by their own key. */
  readonly values: Map<symbol, unknown>;
}

/**
 * The unit lives in the process's one AsyncLocalStorage (`@bulkhead/async-context`, shared with
 * the trace context), not in a DI-aware wrapper: the wrappers register a global guard and
 * interceptor on every route even when unused, and this runs on every request.
 */
const unit = (): UnitOfWork | undefined => currentUnit<UnitOfWork>();

/**
 * The tenant of the current unit of work (request or job). Throws when there is none: code that
 * reaches tenant data without a tenant is a bug, and the only safe answer is to stop.
 */
export function currentTenant(): TenantContext {
  const tenant = unit()?.tenant;
  if (!tenant) throw new TenantContextMissingError();
  return tenant;
}

/** For log enrichment only: never use it to decide access. */
export function peekTenantId(): string | undefined {
  return unit()?.tenant?.tenantId;
}

/** For log enrichment only. */
export function peekRequestId(): string | undefined {
  const work = unit();
  return work?.requestId ?? work?.tenant?.requestId;
}

/** Sets the tenant once for the current unit of work; a second attempt is refused. */
export function establishTenant(tenant: TenantContext): void {
  const work = unit();
  if (!work) throw new TenantContextMissingError('request');
  if (work.tenant !== undefined) throw new TenantContextImmutableError();
  work.tenant = Object.freeze({ ...tenant });
}

/**
 * Runs `work` as a fresh unit of work with no tenant yet (an HTTP request: the tenant guard
 * establishes it). `work` gets the unit itself, for whoever reads it after it ends (the access log).
 */
export function runUnitOfWork<T>(requestId: string, work: (unit: UnitOfWork) => T): T {
  const fresh: UnitOfWork = { requestId, values: new Map() };
  return runInUnit(fresh, () => work(fresh));
}

/** Runs `work` in a fresh unit of work holding only `tenant` (jobs, CLI, tests): nothing leaks in or out. */
export function runWithTenant<T>(tenant: TenantContext, work: () => Promise<T>): Promise<T> {
  return runInUnit({ tenant: Object.freeze({ ...tenant }), values: new Map() } satisfies UnitOfWork, work);
}

/** Keeps `value` under `key` for the current unit of work; outside any unit it is dropped. */
export function setUnitOfWorkValue(key: symbol, value: unknown): void {
  unit()?.values.set(key, value);
}

/** What `setUnitOfWorkValue` kept under `key` in the current unit of work, if anything. */
export function unitOfWorkValue<T>(key: symbol): T | undefined {
  return unit()?.values.get(key) as T | undefined;
}

/** The current unit of work, for the transaction scope: undefined outside any. */
export function currentUnitOfWork(): UnitOfWork | undefined {
  return unit();
}

/** Runs `work` in a child unit of work: a copy of the current one (the tenant carries over) with `scope` open. */
export function runWithScope<T>(scope: TransactionScope, work: () => Promise<T>): Promise<T> {
  const current = unit();
  if (!current) throw new TenantContextMissingError('unit of work');
  return runInUnit({ requestId: current.requestId, tenant: current.tenant, scope, values: current.values } satisfies UnitOfWork, work);
}

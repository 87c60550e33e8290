import { Injectable } from '@nestjs/common';
import { currentTenant } from './tenant-context.store';
import { IsolationModel, TenantTier } from '@bulkhead/config';
import { TenantContext } from './tenant-context';

/**
 * The request's tenant as an injectable provider. It is a singleton whose every read resolves
 * against the current AsyncLocalStorage context, so it behaves as request-scoped without being
 * `Scope.REQUEST`: injecting it does not turn its dependants into per-request instances (a plain
 * request-scoped provider rebuilds the whole injection chain on every request; see the `scoping`
 * benchmark). Reading it where no tenant is established throws, like `currentTenant()`.
 */
@Injectable()
export class RequestTenant implements TenantContext {
  get tenantId(): string {
    return currentTenant().tenantId;
  }
  get slug(): string {
    return currentTenant().slug;
  }
  get tier(): TenantTier {
    return currentTenant().tier;
  }
  get isolation(): IsolationModel {
    return currentTenant().isolation;
  }
  get region(): string {
    return currentTenant().region;
  }
  get cluster(): string {
    return currentTenant().cluster;
  }
  get schemaName(): string | null {
    return currentTenant().schemaName;
  }
  get databaseName(): string | null {
    return currentTenant().databaseName;
  }
  get userId(): string {
    return currentTenant().userId;
  }
  get requestId(): string | undefined {
    return currentTenant().requestId;
  }
}

import { DataSource, EntityManager, EntityTarget, FindOptionsOrder, FindOptionsWhere, MoreThan, SelectQueryBuilder } from 'typeorm';
import { TenantBoundaryViolationError } from './boundary.errors';
import { TenantOwnedEntity } from './tenant-owned.entity';

/** A filter a caller may give: anything but the tenant, which is always ours. */
export type ScopedWhere<E extends TenantOwnedEntity> = Omit<FindOptionsWhere<E>, 'tenantId'>;

export interface PageRequest<E extends TenantOwnedEntity> {
  where?: ScopedWhere<E>;
  /** The id of the last row of the previous page. */
  after?: string;
  limit: number;
}

export function refuseTenantIn(values: object): void {
  if ('tenantId' in values || 'tenant_id' in values) {
    throw new TenantBoundaryViolationError('callers may not name a tenant');
  }
}

export function scopedWhere<E extends TenantOwnedEntity>(where: ScopedWhere<E>, tenantId: string): FindOptionsWhere<E> {
  refuseTenantIn(where);
  return { ...where, tenantId } as FindOptionsWhere<E>;
}

/**
 * The one place a tenant-table SELECT is built: the tenant predicate is always added (it is also
 * what makes the `(tenant_id, ...)` indexes usable), and pages are keyset pages in id order.
 */
export function scopedSelect<E extends TenantOwnedEntity>(
  source: DataSource | EntityManager,
  target: EntityTarget<E>,
  tenantId: string,
  query: { where?: ScopedWhere<E>; after?: string; limit?: number },
): SelectQueryBuilder<E> {
  const where = scopedWhere({ ...(query.where ?? {}), ...(query.after ? { id: MoreThan(query.after) } : {}) } as ScopedWhere<E>, tenantId);
  return source
    .createQueryBuilder(target, 'e')
    .setFindOptions({ where, order: { id: 'ASC' } as FindOptionsOrder<E>, ...(query.limit !== undefined ? { take: query.limit } : {}) });
}

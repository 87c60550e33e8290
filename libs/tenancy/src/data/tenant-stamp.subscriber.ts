import { EntitySubscriberInterface, EventSubscriber, InsertEvent, QueryRunner, RemoveEvent, SoftRemoveEvent, UpdateEvent } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { currentTenant } from '../context/tenant-context.store';
import { TenantBoundaryViolationError } from './boundary.errors';
import { TenantOwnedEntity } from './tenant-owned.entity';

/**
 * The application's write-side check, under RLS. Inserts are stamped with the tenant of the
 * transaction; an insert, update or remove that names any other tenant throws before SQL is sent
 * (a `save` carrying another tenant's id must never re-tenant a row). The tenant of the
 * transaction must also be the tenant of the current context, so a transaction object carried
 * into another tenant's work is refused.
 */
@EventSubscriber()
export class TenantStampSubscriber implements EntitySubscriberInterface<TenantOwnedEntity> {
  listenTo() {
    return TenantOwnedEntity;
  }

  beforeInsert(event: InsertEvent<TenantOwnedEntity>): void {
    const tenantId = transactionTenant(event.queryRunner);
    const entity = event.entity;
    if (entity.tenantId === undefined) entity.tenantId = tenantId;
    else if (entity.tenantId !== tenantId) throw new TenantBoundaryViolationError('insert names another tenant');
    if (entity.id === undefined) entity.id = uuidv7();
  }

  beforeUpdate(event: UpdateEvent<TenantOwnedEntity>): void {
    const tenantId = transactionTenant(event.queryRunner);
    for (const candidate of [event.entity, event.databaseEntity] as Array<Partial<TenantOwnedEntity> | undefined>) {
      if (candidate && candidate.tenantId !== undefined && candidate.tenantId !== tenantId) {
        throw new TenantBoundaryViolationError('update names another tenant');
      }
    }
  }

  beforeRemove(event: RemoveEvent<TenantOwnedEntity>): void {
    checkRemoval(event.queryRunner, event.entity, event.databaseEntity);
  }

  beforeSoftRemove(event: SoftRemoveEvent<TenantOwnedEntity>): void {
    checkRemoval(event.queryRunner, event.entity, event.databaseEntity);
  }
}

function checkRemoval(runner: QueryRunner, ...candidates: Array<TenantOwnedEntity | undefined>): void {
  const tenantId = transactionTenant(runner);
  for (const candidate of candidates) {
    if (candidate && candidate.tenantId !== tenantId) throw new TenantBoundaryViolationError('remove names another tenant');
  }
}

function transactionTenant(runner: QueryRunner): string {
  const tenantId = (runner.data as { tenantId?: unknown } | undefined)?.tenantId;
  if (typeof tenantId !== 'string' || !runner.isTransactionActive) {
    throw new TenantBoundaryViolationError('tenant data written outside a tenant transaction');
  }
  if (currentTenant().tenantId !== tenantId) throw new TenantBoundaryViolationError('transaction belongs to another tenant');
  return tenantId;
}

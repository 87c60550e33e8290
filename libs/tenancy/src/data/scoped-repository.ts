import { insertEntities, insertEntityIfAbsent } from './compiled-insert';
import { TenantQueryRunner } from './tenant-query-runner';
import { DeepPartial, EntityManager, EntityTarget, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { PageRequest, refuseTenantIn, scopedSelect, scopedWhere, ScopedWhere } from './scoped-query';
import { TenantOwnedEntity } from './tenant-owned.entity';

const INSERT_CHUNK = 1000;

export type ScopedValues<E extends TenantOwnedEntity> = Omit<DeepPartial<E>, 'tenantId'>;
export type ScopedPatch<E extends TenantOwnedEntity> = Omit<QueryDeepPartialEntity<E>, 'tenantId' | 'id'>;

/**
 * Tenant-table access for one tenant transaction. Every statement it builds carries
 * `tenant_id = <this transaction's tenant>` whatever the caller passes; RLS enforces the same
 * predicate underneath, and the predicate is also what makes the `(tenant_id, ...)` indexes usable.
 */
export class ScopedRepository<E extends TenantOwnedEntity> {
  constructor(
    private readonly manager: EntityManager,
    private readonly target: EntityTarget<E>,
    private readonly tenantId: string,
  ) {}

  async findById(id: string): Promise<E | null> {
    return scopedSelect(this.manager, this.target, this.tenantId, { where: { id } as ScopedWhere<E>, limit: 1 }).getOne();
  }

  async findOneBy(where: ScopedWhere<E>): Promise<E | null> {
    return scopedSelect(this.manager, this.target, this.tenantId, { where, limit: 1 }).getOne();
  }

  /** Keyset pagination in creation order (ids are UUIDv7). */
  async findPage(page: PageRequest<E>): Promise<E[]> {
    return scopedSelect(this.manager, this.target, this.tenantId, page).getMany();
  }

  async count(where: ScopedWhere<E> = {} as ScopedWhere<E>): Promise<number> {
    return this.manager.count(this.target, { where: scopedWhere(where, this.tenantId) });
  }

  /** One INSERT ... RETURNING; the subscriber stamps the tenant and mints the id. */
  async insert(values: ScopedValues<E>): Promise<E> {
    refuseTenantIn(values);
    const entity = this.manager.create(this.target, values as DeepPartial<E>);
    await insertEntities(this.manager, this.target, [entity]);
    const runner = this.manager.queryRunner;
    if (runner instanceof TenantQueryRunner) runner.noteCreated(this.manager.connection.getMetadata(this.target).tableName, (entity as { id?: unknown }).id);
    return entity;
  }

  /**
   * One INSERT ... ON CONFLICT DO NOTHING: true when the row was inserted, false when a row with
   * the same key (or unique constraint) exists or a concurrent transaction inserted one first.
   */
  async insertIfAbsent(values: ScopedValues<E>): Promise<boolean> {
    refuseTenantIn(values);
    const entity = this.manager.create(this.target, values as DeepPartial<E>);
    return insertEntityIfAbsent(this.manager, this.target, entity);
  }

  /** The row, locked until the transaction ends: concurrent deliveries of one job serialise here. */
  async findByIdForUpdate(id: string): Promise<E | null> {
    return scopedSelect(this.manager, this.target, this.tenantId, { where: { id } as ScopedWhere<E>, limit: 1 })
      .setLock('pessimistic_write')
      .getOne();
  }

  /** Multi-row INSERTs in chunks (PostgreSQL takes at most 65,535 bind parameters a statement). */
  async insertMany(values: ScopedValues<E>[]): Promise<void> {
    values.forEach(refuseTenantIn);
    for (let start = 0; start < values.length; start += INSERT_CHUNK) {
      const entities = values.slice(start, start + INSERT_CHUNK).map((value) => this.manager.create(this.target, value as DeepPartial<E>));
      await insertEntities(this.manager, this.target, entities);
    }
  }

  /**
   * An aggregate query over this tenant's rows. `build` gets a query whose FROM is a derived table
   * holding only this tenant's rows (database column names, alias `e`), so nothing it adds (an
   * OR, a replaced WHERE) can reach another tenant's rows.
   */
  async aggregate<R>(build: (query: SelectQueryBuilder<ObjectLiteral>) => SelectQueryBuilder<ObjectLiteral>): Promise<R[]> {
    const query = this.manager
      .createQueryBuilder()
      .from((sub) => sub.select('*').from(this.target, 't').where('t.tenant_id = :bulkheadTenantId', { bulkheadTenantId: this.tenantId }), 'e');
    return build(query).getRawMany<R>();
  }

  /** Deletes this tenant's rows matching `where`; returns how many. */
  async deleteWhere(where: ScopedWhere<E>): Promise<number> {
    const result = await this.manager.delete(this.target, scopedWhere(where, this.tenantId));
    return result.affected ?? 0;
  }

  /** One UPDATE ... RETURNING, or null when no such row exists for this tenant. */
  async update(id: string, patch: ScopedPatch<E>): Promise<E | null> {
    refuseTenantIn(patch);
    const result = await this.manager
      .createQueryBuilder()
      .update(this.target)
      .set(patch as QueryDeepPartialEntity<E>)
      .where('tenant_id = :tenantId AND id = :id', { tenantId: this.tenantId, id })
      .returning('*')
      .execute();
    const [row] = result.raw as ObjectLiteral[];
    if (!row) return null;
    return this.manager.create(this.target, this.fromRaw(row));
  }

  /** True when a row was deleted; false when this tenant has no such row. */
  async delete(id: string): Promise<boolean> {
    const result = await this.manager
      .createQueryBuilder()
      .delete()
      .from(this.target)
      .where('tenant_id = :tenantId AND id = :id', { tenantId: this.tenantId, id })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  private fromRaw(row: ObjectLiteral): DeepPartial<E> {
    const metadata = this.manager.connection.getMetadata(this.target);
    const entity: ObjectLiteral = {};
    for (const column of metadata.columns) {
      if (column.databaseName in row) entity[column.propertyName] = row[column.databaseName];
    }
    return entity as DeepPartial<E>;
  }
}

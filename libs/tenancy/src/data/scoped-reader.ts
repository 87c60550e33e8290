import { EntityTarget, ObjectLiteral } from 'typeorm';
import { RawSqlResultsToEntityTransformer } from 'typeorm/query-builder/transformer/RawSqlResultsToEntityTransformer';
import { PageRequest, scopedSelect, ScopedWhere } from './scoped-query';
import { TenantOwnedEntity } from './tenant-owned.entity';
import { TenantContext } from '../context/tenant-context';
import { DataSourceRouter } from '@bulkhead/control-plane';
import { TenantQueryRunner } from './tenant-query-runner';

/**
 * Reads that need a single statement, each in one round trip: the tenant is set and the SELECT
 * runs in one simple-protocol message, which PostgreSQL executes as one implicit transaction, so
 * `set_config(..., true)` holds for exactly that SELECT and is gone when the message completes.
 * Round trips, not RLS, dominate the cost of scoping; this takes the read path from three to one.
 * Inside a transaction scope the SELECT runs in the scope's transaction instead: it sees what the
 * scope wrote, and takes no second connection (and no second slot of the tenant's gate).
 */
export class ScopedReader<E extends TenantOwnedEntity> {
  constructor(
    private readonly router: DataSourceRouter,
    private readonly tenant: TenantContext,
    private readonly target: EntityTarget<E>,
    private readonly joined?: TenantQueryRunner,
  ) {}

  findById(id: string): Promise<E | null> {
    return this.first({ where: { id } as ScopedWhere<E>, limit: 1 });
  }

  findOneBy(where: ScopedWhere<E>): Promise<E | null> {
    return this.first({ where, limit: 1 });
  }

  findPage(page: PageRequest<E>): Promise<E[]> {
    return this.run(page);
  }

  private async first(query: PageRequest<E>): Promise<E | null> {
    const [found] = await this.run(query);
    return found ?? null;
  }

  private async run(page: PageRequest<E>): Promise<E[]> {
    if (this.joined) {
      const query = scopedSelect(this.joined.connection, this.target, this.tenant.tenantId, page);
      const [sql, parameters] = query.getQueryAndParameters();
      const rows = (await this.joined.query(sql, parameters)) as ObjectLiteral[];
      const transformer = new RawSqlResultsToEntityTransformer(query.expressionMap, this.joined.connection.driver, [], [], this.joined);
      return transformer.transform(rows, query.expressionMap.mainAlias!) as E[];
    }
    return this.router.use(
      this.tenant,
      async (placement) => {
        const query = scopedSelect(placement.dataSource, this.target, this.tenant.tenantId, page);
        const [sql, parameters] = query.getQueryAndParameters();
        const runner = TenantQueryRunner.create(placement.dataSource, { tenantId: this.tenant.tenantId, searchPath: placement.searchPath });
        try {
          const rows = await runner.readOnce(sql, parameters);
          const transformer = new RawSqlResultsToEntityTransformer(query.expressionMap, placement.dataSource.driver, [], [], runner);
          return transformer.transform(rows as ObjectLiteral[], query.expressionMap.mainAlias!) as E[];
        } finally {
          await runner.release();
        }
      },
      { critical: false },
    );
  }
}

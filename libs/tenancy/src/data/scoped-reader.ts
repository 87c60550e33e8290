import { EntityTarget, ObjectLiteral } from 'typeorm';
import { DataSourceRouter, PlacedTenant } from '@bulkhead/control-plane';
import { CompiledSelect } from './compiled-select';
import { PageRequest, ScopedWhere } from './scoped-query';
import { TenantOwnedEntity } from './tenant-owned.entity';
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
    private readonly tenant: PlacedTenant,
    private readonly target: EntityTarget<E>,
    private readonly joined?: TenantQueryRunner,
    /** Where the tenant lives now, when a read met its placement dropped after a move (else undefined). */
    private readonly relocate?: (placed: PlacedTenant, error: unknown) => Promise<PlacedTenant | undefined>,
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
    const { tenantId } = this.tenant;
    if (this.joined) {
      const select = CompiledSelect.of(this.joined.connection, this.target, page);
      return select.hydrate((await this.joined.query(select.sql(tenantId, page))) as ObjectLiteral[]);
    }
    try {
      return await this.runOn(this.tenant, page);
    } catch (error) {
      const moved = await this.relocate?.(this.tenant, error);
      if (!moved) throw error;
      return this.runOn(moved, page);
    }
  }

  private runOn(placed: PlacedTenant, page: PageRequest<E>): Promise<E[]> {
    const { tenantId } = placed;
    return this.router.use(
      placed,
      async (placement) => {
        const select = CompiledSelect.of(placement.dataSource, this.target, page);
        const rows = await TenantQueryRunner.readOnce(placement.dataSource, { tenantId, searchPath: placement.searchPath }, select.sql(tenantId, page));
        return select.hydrate(rows);
      },
      { critical: false },
    );
  }
}

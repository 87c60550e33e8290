import { Injectable } from '@nestjs/common';
import { EntityTarget } from 'typeorm';
import { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import { currentTenant } from '../context/tenant-context.store';
import { DataSourceRouter } from '@bulkhead/control-plane';
import { ScopedReader } from './scoped-reader';
import { ScopedRepository } from './scoped-repository';
import { TenantOwnedEntity } from './tenant-owned.entity';
import { TenantQueryRunner } from './tenant-query-runner';

/** One unit of work on the current tenant's data. */
export class TenantTransaction {
  constructor(
    private readonly runner: TenantQueryRunner,
    readonly tenantId: string,
  ) {}

  repository<E extends TenantOwnedEntity>(target: EntityTarget<E>): ScopedRepository<E> {
    return new ScopedRepository(this.runner.manager, target, this.tenantId);
  }
}

export interface TenantTransactionOptions {
  readOnly?: boolean;
  /** REPEATABLE READ gives a multi-statement read one snapshot (an export, a report). */
  isolationLevel?: IsolationLevel;
}

/**
 * The only way to tenant tables. It takes the tenant from the current context (never from a
 * caller), asks the router where that tenant lives, and runs the work in one transaction that
 * opened by setting the tenant. With no tenant context it throws before touching the database.
 */
@Injectable()
export class TenantData {
  constructor(private readonly router: DataSourceRouter) {}

  /** Single-statement reads of the current tenant's data, each in one round trip. */
  read<E extends TenantOwnedEntity>(target: EntityTarget<E>): ScopedReader<E> {
    return new ScopedReader(this.router, currentTenant(), target);
  }

  async transaction<T>(work: (tx: TenantTransaction) => Promise<T>, options: TenantTransactionOptions = {}): Promise<T> {
    const tenant = currentTenant();
    return this.router.use(
      tenant,
      async (placement) => {
        const runner = TenantQueryRunner.create(placement.dataSource, {
          tenantId: tenant.tenantId,
          searchPath: placement.searchPath,
          readOnly: options.readOnly,
        });
        try {
          await runner.startTransaction(options.isolationLevel);
          const result = await work(new TenantTransaction(runner, tenant.tenantId));
          await runner.commitTransaction();
          return result;
        } catch (error) {
          if (runner.isTransactionActive) await runner.rollbackTransaction().catch((rollbackError) => runner.discard(rollbackError));
          throw error;
        } finally {
          await runner.release();
        }
      },
      // Writes are never shed; a read-only unit of work may be, when its pool is saturated.
      { critical: !options.readOnly },
    );
  }
}

import { IsolationModel, TenantTier } from '@bulkhead/config';
import { DataSource } from 'typeorm';

/** What the router needs to know of a tenant to find its data: the registry's placement, never a guess. */
export interface PlacedTenant {
  readonly tenantId: string;
  /** Its share of a pool's connections under contention (POOL_TIER_WEIGHTS). */
  readonly tier: TenantTier;
  readonly isolation: IsolationModel;
  readonly cluster: string;
  readonly schemaName: string | null;
  readonly databaseName: string | null;
  /** The registry's placement version this unit of work started with (absent for the platform's own context). */
  readonly placementVersion?: number;
}

/**
 * Where a tenant's data lives. The pool model shares one data source and relies on `tenant_id`
 * plus RLS; the schema model adds a search path; the silo model has its own data source.
 */
export interface Placement {
  readonly model: IsolationModel;
  readonly dataSource: DataSource;
  /** Already-quoted schema list for `search_path`, set per transaction; absent in the pool. */
  readonly searchPath?: string;
}

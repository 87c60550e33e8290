import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TenantContext } from '../context/tenant-context';
import { PlacementUnavailableProblem } from '../tenancy.errors';
import { Placement } from './placement';
import { RUNTIME_DATA_SOURCE } from './runtime-data-source';

/**
 * Maps a tenant to its placement. The tenant-scoped data access asks it on every unit of work, so
 * the schema and silo models plug in here without any caller changing. A model this deployment
 * does not serve fails closed with 503, never falls back to another placement.
 */
@Injectable()
export class DataSourceRouter {
  private readonly pool: Placement;

  constructor(@Inject(RUNTIME_DATA_SOURCE) dataSource: DataSource) {
    this.pool = Object.freeze({ model: 'pool', dataSource });
  }

  async placementOf(tenant: TenantContext): Promise<Placement> {
    if (tenant.isolation === 'pool') return this.pool;
    throw new PlacementUnavailableProblem(tenant.isolation);
  }
}

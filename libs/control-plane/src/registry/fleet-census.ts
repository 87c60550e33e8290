import { Injectable } from '@nestjs/common';
import { TenantStatus } from './tenant.record';
import { TenantProvisioner } from './tenant-provisioner';
import { TenantRepository } from './tenant.repository';

export type PlacedModel = 'schema' | 'silo';

/** Live placements of one model on one cluster, split by whether they carry the current data version. */
export interface PlacementVersionCount {
  cluster: string;
  model: PlacedModel;
  current: number;
  behind: number;
}

export interface PlacementBehind {
  id: string;
  slug: string;
  cluster: string;
  model: PlacedModel;
  status: TenantStatus;
  dataVersion: number;
}

export interface FleetPlacementCensus {
  /** The data version a placement carries once it has every owner's tenant migrations. */
  dataVersion: number;
  groups: PlacementVersionCount[];
  /** The placements furthest behind first, at most `limit` of them. */
  behind: PlacementBehind[];
}

/**
 * The fleet's migration state as the registry records it (the data version each schema or silo
 * tenant was last brought to by provisioning or `bulkhead migrate`), for operators. Read from the
 * control plane only: asking each placement would take a connection per tenant.
 */
@Injectable()
export class FleetCensus {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly provisioner: TenantProvisioner,
  ) {}

  async placements(limit: number): Promise<FleetPlacementCensus> {
    const dataVersion = this.provisioner.currentDataVersion();
    const [groups, behind] = await Promise.all([this.tenants.countByDataVersion(dataVersion), this.tenants.listBehind(dataVersion, limit)]);
    return { dataVersion, groups, behind };
  }
}

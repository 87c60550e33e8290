import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RUNTIME_DATA_SOURCE } from '../control-plane.options';
import { TenantStatus } from './tenant.record';
import { TenantProvisioner } from './tenant-provisioner';

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
    @Inject(RUNTIME_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly provisioner: TenantProvisioner,
  ) {}

  async placements(limit: number): Promise<FleetPlacementCensus> {
    const dataVersion = this.provisioner.currentDataVersion();
    // A version above the code's (a newer release rolled back) is not behind: nothing for migrate to do.
    const counts: Array<{ cluster: string; model: PlacedModel; current: number; behind: number }> = await this.dataSource.query(
      `SELECT cluster, isolation AS model,
              count(*) FILTER (WHERE data_version >= $1)::int AS current,
              count(*) FILTER (WHERE data_version < $1)::int AS behind
         FROM tenants
        WHERE isolation IN ('schema', 'silo') AND status <> 'deleted'
        GROUP BY 1, 2 ORDER BY 1, 2`,
      [dataVersion],
    );
    const behind: Array<{ id: string; slug: string; cluster: string; model: PlacedModel; status: TenantStatus; data_version: number }> = await this.dataSource.query(
      `SELECT id, slug, cluster, isolation AS model, status, data_version
         FROM tenants
        WHERE isolation IN ('schema', 'silo') AND status <> 'deleted' AND data_version < $1
        ORDER BY data_version, id LIMIT $2`,
      [dataVersion, limit],
    );
    return {
      dataVersion,
      groups: counts,
      behind: behind.map((row) => ({ id: row.id, slug: row.slug, cluster: row.cluster, model: row.model, status: row.status, dataVersion: row.data_version })),
    };
  }
}

import { BulkheadConfig } from '@bulkhead/config';
import { isSchemaName } from '@bulkhead/database';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RUNTIME_DATA_SOURCE } from '../control-plane.options';
import { PlacedTenant, Placement } from './placement';
import { InvalidPlacementError } from './placement.errors';
import { driverPoolOf, SharedDataSources } from './shared-data-sources';
import { SiloDataSources } from './silo-data-sources';
import { FairPoolGate, GateLane, GateSnapshot } from './fair-pool-gate';
import { PoolCounts } from './silo-data-sources';

/**
 * Maps a tenant to its placement, for every unit of work: the shared pool (pool model), the
 * shared pool with the tenant's schema as the only search path (schema model), or the tenant's
 * own database (silo model), each on the tenant's cluster. The placement comes from the registry record, never a guess; a
 * tenant without one fails closed. Every unit of work is admitted through the FairPoolGate of the
 * pool it will use, so tenants share connections by tier weight and shedding is per tenant.
 */
/** Told, after each unit of work, which tenant held a connection and for how long (usage metering). */
export type ConnectionHoldListener = (tenantId: string, heldMs: number) => void;

/** The pools as metrics see them, read at scrape time only. */
export interface PoolStats {
  readonly gate: GateSnapshot;
  /** The shared pool's connections: open, idle, and callers queued inside the driver. */
  readonly shared: { readonly total: number; readonly idle: number; readonly waiting: number };
  /** Silo pools open in this process. */
  readonly siloPools: number;
}

@Injectable()
export class DataSourceRouter {
  private holdListener: ConnectionHoldListener | undefined;

  constructor(
    @Inject(RUNTIME_DATA_SOURCE) private readonly shared: DataSource,
    private readonly silos: SiloDataSources,
    private readonly gate: FairPoolGate,
    private readonly sharedPools: SharedDataSources,
    private readonly config: BulkheadConfig,
  ) {}

  async use<T>(tenant: PlacedTenant, work: (placement: Placement) => Promise<T>, options: { critical: boolean }): Promise<T> {
    const silo = tenant.isolation === 'silo';
    const admission = {
      ...this.poolOf(tenant),
      tenantId: tenant.tenantId,
      weight: this.config.poolTierWeights[tenant.tier],
      critical: options.critical,
    };
    await this.gate.enter(admission);
    const started = this.holdListener ? performance.now() : 0;
    let release: (() => void) | undefined;
    try {
      let placement: Placement;
      if (silo) {
        const lease = await this.silos.acquire(tenant);
        release = lease.release;
        placement = { model: 'silo', dataSource: lease.dataSource };
      } else {
        const opened = this.sharedPools.of(tenant.cluster);
        const dataSource = opened instanceof DataSource ? opened : await opened;
        placement = tenant.isolation === 'schema' ? { model: 'schema', dataSource, searchPath: this.searchPathOf(tenant) } : { model: 'pool', dataSource };
      }
      return await work(placement);
    } finally {
      release?.();
      this.gate.leave(admission);
      this.holdListener?.(tenant.tenantId, performance.now() - started);
    }
  }

  /** One listener (the usage recorder); it must be cheap and never throw: it runs on every unit of work. */
  observeConnectionHolds(listener: ConnectionHoldListener): void {
    this.holdListener = listener;
  }

  /**
   * One tenant's connections in this process: its lane at the gate of the pool its placement
   * uses, and that pool's driver counts (its silo pool, or its cluster's shared pool; none when
   * not open here yet).
   */
  tenantConnections(tenant: Pick<PlacedTenant, 'tenantId' | 'isolation' | 'cluster'>): { gate: GateLane; pool: PoolCounts | null } {
    const { pool, capacity } = this.poolOf(tenant);
    const gate = this.gate.laneOf(pool, tenant.tenantId, capacity);
    if (tenant.isolation === 'silo') return { gate, pool: this.silos.poolOf(tenant.tenantId) ?? null };
    return { gate, pool: this.sharedPools.counts().find((entry) => entry.cluster === tenant.cluster)?.pool ?? null };
  }

  /** Every pool of this process: each cluster's shared pool that is open here, and the silo pools' totals. */
  connectionStats(): { gate: GateSnapshot; shared: Array<{ cluster: string; pool: PoolCounts }>; silos: { open: number; connections: number; maxConnections: number; poolMax: number } } {
    return {
      gate: this.gate.snapshot(),
      shared: this.sharedPools.counts(),
      silos: { open: this.silos.open, connections: this.silos.connections, maxConnections: this.silos.maxConnections, poolMax: this.config.SILO_POOL_MAX },
    };
  }

  poolStats(): PoolStats {
    return {
      gate: this.gate.snapshot(),
      shared: driverPoolOf(this.shared, this.config.DATABASE_POOL_MAX),
      siloPools: this.silos.open,
    };
  }

  /** The gate's pool key of a placement, and that pool's size. */
  private poolOf(tenant: Pick<PlacedTenant, 'tenantId' | 'isolation' | 'cluster'>): { pool: string; capacity: number } {
    return tenant.isolation === 'silo'
      ? { pool: `silo:${tenant.tenantId}`, capacity: this.config.SILO_POOL_MAX }
      : { pool: `shared:${tenant.cluster}`, capacity: this.config.DATABASE_POOL_MAX };
  }

  private searchPathOf(tenant: PlacedTenant): string {
    if (!isSchemaName(tenant.schemaName)) throw new InvalidPlacementError('schema tenant without a valid schema');
    return `"${tenant.schemaName}"`;
  }
}

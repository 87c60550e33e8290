import { ApiProperty } from '@nestjs/swagger';

/** Every count here is one API process's: each process has its own pools and its own gate. */
export const INSTANCE_SCOPE_NOTE = "This API instance's counts only: every API process has its own pools and gate, and nothing adds them up across instances (the bulkhead_db_* metrics do, summed over the scraped processes).";

export class InstanceView {
  @ApiProperty({ description: 'The process that answered: host name and pid.', example: 'api-7f9c:4242' }) id!: string;
  @ApiProperty({ enum: ['instance'], description: INSTANCE_SCOPE_NOTE }) scope!: 'instance';
}

export class PoolCountsView {
  @ApiProperty({ type: 'integer', description: 'Connections open.' }) total!: number;
  @ApiProperty({ type: 'integer', description: 'Open and idle.' }) idle!: number;
  @ApiProperty({ type: 'integer', description: 'Callers queued inside the driver (the gate keeps this at 0).' }) waiting!: number;
  @ApiProperty({ type: 'integer', description: 'The pool size (DATABASE_POOL_MAX, or SILO_POOL_MAX for a silo).' }) max!: number;
}

export class GateLaneView {
  @ApiProperty({ description: '`shared:<cluster>` or `silo:<tenant id>`.', example: 'shared:main' }) pool!: string;
  @ApiProperty({ type: 'integer', description: "The tenant's units of work holding a connection." }) inUse!: number;
  @ApiProperty({ type: 'integer', description: "The tenant's units of work waiting for one." }) waiting!: number;
  @ApiProperty({ type: 'integer', description: "Connections it may hold now: the pool's size unless the load governor lowered it." }) limit!: number;
  @ApiProperty({ type: 'integer', description: 'What it may hold while other tenants wait (TENANT_MAX_CONNECTIONS).' }) capWhileOthersWait!: number;
  @ApiProperty({ type: 'integer', description: 'Waiters beyond this are refused with 503 (TENANT_MAX_QUEUE).' }) maxQueue!: number;
  @ApiProperty({ type: 'integer', description: "The pool's size." }) capacity!: number;
  @ApiProperty({ type: 'integer', description: "Every tenant's units of work holding one of the pool's connections." }) poolInUse!: number;
}

export class TenantConnectionsView {
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty({ type: InstanceView }) instance!: InstanceView;
  @ApiProperty({ type: GateLaneView }) gate!: GateLaneView;
  @ApiProperty({ type: PoolCountsView, nullable: true, description: 'The driver pool its placement uses; null when it is not open in this process.' }) pool!: PoolCountsView | null;
}

export class ClusterPoolView {
  @ApiProperty({ example: 'main' }) cluster!: string;
  @ApiProperty({ type: PoolCountsView }) pool!: PoolCountsView;
}

export class GateCountsView {
  @ApiProperty({ type: 'integer' }) shared!: number;
  @ApiProperty({ type: 'integer' }) silo!: number;
}

export class GateTotalsView {
  @ApiProperty({ type: GateCountsView, description: 'Units of work holding a connection, per pool kind.' }) active!: GateCountsView;
  @ApiProperty({ type: GateCountsView, description: 'Units of work waiting for one.' }) waiting!: GateCountsView;
  @ApiProperty({ type: 'integer', description: 'Tenants holding or waiting for a connection.' }) tenants!: number;
  @ApiProperty({ type: GateCountsView, description: 'Tenants held below their pool size by the load governor.' }) heldBack!: GateCountsView;
  @ApiProperty({ description: 'Refused since this process started: excess (beyond TENANT_MAX_QUEUE), timeout (waited past POOL_QUEUE_BUDGET_MS).', example: { excess: 0, timeout: 0 } }) shed!: { excess: number; timeout: number };
}

export class SiloPoolsView {
  @ApiProperty({ type: 'integer', description: 'Silo pools open (or closing).' }) open!: number;
  @ApiProperty({ type: 'integer', description: 'Silo connections open or opening.' }) connections!: number;
  @ApiProperty({ type: 'integer', description: 'What all silo pools may hold (DATABASE_CONNECTION_BUDGET less DATABASE_POOL_MAX).' }) maxConnections!: number;
  @ApiProperty({ type: 'integer', description: 'One silo pool at most (SILO_POOL_MAX).' }) poolMax!: number;
}

export class FleetConnectionsView {
  @ApiProperty({ type: InstanceView }) instance!: InstanceView;
  @ApiProperty({ type: [ClusterPoolView], description: "Each cluster's shared pool open in this process (main always; another once a tenant there was served)." }) shared!: ClusterPoolView[];
  @ApiProperty({ type: SiloPoolsView }) silos!: SiloPoolsView;
  @ApiProperty({ type: GateTotalsView }) gate!: GateTotalsView;
}

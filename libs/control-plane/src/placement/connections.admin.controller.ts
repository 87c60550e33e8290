import { ParseIdPipe } from '@bulkhead/domain-kit';
import { OperatorOnly } from '@bulkhead/identity';
import { ApiProblem } from '@bulkhead/openapi';
import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { hostname } from 'node:os';
import { TenantErasedProblem, TenantNotFoundProblem } from '../registry/registry.errors';
import { TenantAdmin } from '../registry/tenant-admin';
import { FleetConnectionsView, INSTANCE_SCOPE_NOTE, InstanceView, TenantConnectionsView } from './connections.dto';
import { DataSourceRouter } from './data-source.router';

/**
 * Operators: database connections as this API process holds them. Read from memory (the gate's
 * lanes, the drivers' counters): no query, no connection taken to answer.
 */
@ApiTags('admin')
@ApiBearerAuth()
@OperatorOnly()
@Controller('v1/admin')
export class ConnectionsAdminController {
  private readonly instance: InstanceView = { id: `${hostname()}:${process.pid}`, scope: 'instance' };

  constructor(
    private readonly admin: TenantAdmin,
    private readonly router: DataSourceRouter,
  ) {}

  @Get('tenants/:id/connections')
  @ApiOperation({
    summary: "A tenant's connections at the per-tenant gate (in use, waiting, its limit) and the pool its placement uses (total, idle, waiting)",
    description: INSTANCE_SCOPE_NOTE,
  })
  @ApiOkResponse({ type: TenantConnectionsView })
  @ApiProblem(TenantNotFoundProblem)
  @ApiProblem(new TenantErasedProblem())
  async tenant(@Param('id', new ParseIdPipe()) id: string): Promise<TenantConnectionsView> {
    const tenant = this.admin.operable(await this.admin.get(id));
    const { gate, pool } = this.router.tenantConnections({ tenantId: tenant.id, isolation: tenant.isolation, cluster: tenant.cluster });
    return { tenantId: tenant.id, instance: this.instance, gate, pool };
  }

  @Get('connections')
  @ApiOperation({
    summary: "Every database pool of this API process: each cluster's shared pool (total, idle, waiting), the silo pools, and the gate's totals",
    description: INSTANCE_SCOPE_NOTE,
  })
  @ApiOkResponse({ type: FleetConnectionsView })
  fleet(): FleetConnectionsView {
    const stats = this.router.connectionStats();
    const { active, waiting, tenants, heldBack, shed } = stats.gate;
    return { instance: this.instance, shared: stats.shared, silos: stats.silos, gate: { active, waiting, tenants, heldBack, shed } };
  }
}

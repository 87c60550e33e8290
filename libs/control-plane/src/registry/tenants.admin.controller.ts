import { ParseIdPipe } from '@bulkhead/domain-kit';
import { ApiProblem } from '@bulkhead/openapi';
import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { OperatorOnly } from '@bulkhead/identity';
import { TenantNotFoundProblem, TenantStateProblem } from './registry.errors';
import { ListTenantsQuery, TenantPage, TenantView } from './tenant.dto';
import { TenantAdmin } from './tenant-admin';

@ApiTags('admin')
@ApiBearerAuth()
@OperatorOnly()
/** Operators read and change tenants here; creating one is the lifecycle's (`POST /v1/admin/tenants`, the onboarding saga). */
@Controller('v1/admin/tenants')
export class TenantsAdminController {
  constructor(private readonly admin: TenantAdmin) {}

  @Get()
  @ApiOperation({ summary: 'List tenants (cursor pagination)' })
  @ApiOkResponse({ type: TenantPage })
  async list(@Query() query: ListTenantsQuery): Promise<TenantPage> {
    const limit = query.limit ?? 50;
    const items = await this.admin.list({ ...query, limit });
    return { items: items.map(TenantView.of), next: items.length === limit ? items[items.length - 1].id : null };
  }

  @Get(':id')
  @ApiOkResponse({ type: TenantView })
  @ApiProblem(TenantNotFoundProblem)
  async get(@Param('id', new ParseIdPipe()) id: string): Promise<TenantView> {
    return TenantView.of(await this.admin.get(id));
  }

  @Post(':id/suspend')
  @HttpCode(200)
  @ApiOperation({ summary: 'Suspend a tenant: its tokens get 403 on every instance within TENANT_CACHE_TTL_MS' })
  @ApiOkResponse({ type: TenantView })
  @ApiProblem(TenantNotFoundProblem)
  @ApiProblem(new TenantStateProblem('The tenant is suspended; it must be active to become suspended.'))
  async suspend(@Param('id', new ParseIdPipe()) id: string): Promise<TenantView> {
    return TenantView.of(await this.admin.suspend(id));
  }

  @Post(':id/provision')
  @HttpCode(200)
  @ApiOperation({ summary: "Provision (again) a tenant's schema or database and bring it to the latest migration; idempotent" })
  @ApiOkResponse({ type: TenantView })
  @ApiProblem(TenantNotFoundProblem)
  @ApiProblem(new TenantStateProblem('The tenant is suspended; only a provisioning or active tenant can be provisioned.'))
  @ApiProblem(503, 'provisioning_failed', 'Provisioning failed')
  async provision(@Param('id', new ParseIdPipe()) id: string): Promise<TenantView> {
    return TenantView.of(await this.admin.provision(id));
  }

  @Post(':id/reactivate')
  @HttpCode(200)
  @ApiOkResponse({ type: TenantView })
  @ApiProblem(TenantNotFoundProblem)
  @ApiProblem(new TenantStateProblem('The tenant is active; it must be suspended to become active.'))
  async reactivate(@Param('id', new ParseIdPipe()) id: string): Promise<TenantView> {
    return TenantView.of(await this.admin.reactivate(id));
  }
}

import { ParseIdPipe } from '@bulkhead/domain-kit';
import { TenantAdmin, TenantRecord } from '@bulkhead/control-plane';
import { OperatorOnly } from '@bulkhead/identity';
import { ApiProblem } from '@bulkhead/openapi';
import { runWithTenant, tenantContextOf } from '@bulkhead/tenancy';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@bulkhead/identity';
import { CryptoShredder } from './crypto-shredder';
import { CreateImpersonationDto, ImpersonationGrantList, ImpersonationGrantView, ImpersonationView, ShredView } from './impersonation.dto';
import { ImpersonationService } from './impersonation.service';
import { AuditChainTooLongProblem, AuditVerifyBusyProblem, ImpersonationGrantNotFoundProblem, TenantTrailErasedProblem, TenantTrailUnavailableProblem } from './audit.errors';
import { AuditVerifyView } from './audit-verify.dto';
import { AuditVerifyRunner } from './audit-verify.runner';
import { AuditPage, AuditQuery } from './audit-entry.dto';
import { AuditReader } from './audit-reader';
import { AuditTrail } from './audit-trail';

/** Operators read every chain: the platform's, and any tenant's where it lives. Each read is itself an operator action, recorded. */
@ApiTags('admin')
@ApiBearerAuth()
@OperatorOnly()
@Controller('v1/admin')
export class AuditAdminController {
  constructor(
    private readonly reader: AuditReader,
    private readonly trail: AuditTrail,
    private readonly tenants: TenantAdmin,
    private readonly impersonation: ImpersonationService,
    private readonly shredder: CryptoShredder,
    private readonly verifyRunner: AuditVerifyRunner,
  ) {}

  @Post('tenants/:id/audit/verify')
  @HttpCode(200)
  @ApiOperation({
    summary: "Verify one tenant's audit chain where it lives, as `bulkhead audit verify --tenant` does: ok, or the first bad sequence number",
    description:
      'Against the newest signed checkpoint when AUDIT_CHECKPOINT_FILE is on this host. One chain per request, up to AUDIT_VERIFY_HTTP_MAX_ENTRIES entries (longer: 422, use the CLI), one verification at a time per API instance (else 429). The verdict is recorded in the platform trail (`audit.verify`). A placement that cannot be read answers 200 with the chain not ok and the reason.',
  })
  @ApiOkResponse({ type: AuditVerifyView })
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @ApiProblem(TenantTrailErasedProblem)
  @ApiProblem(TenantTrailUnavailableProblem)
  @ApiProblem(new AuditChainTooLongProblem(3_000_000n, 2_000_000))
  @ApiProblem(AuditVerifyBusyProblem)
  async verifyTenant(@Param('id', new ParseIdPipe()) id: string, @Req() request: { user: Principal; id?: unknown }): Promise<AuditVerifyView> {
    const tenant = await this.living(id);
    return this.verifyRunner.tenant(tenant, { ...request.user, requestId: typeof request.id === 'string' ? request.id : undefined });
  }

  @Post('audit/verify')
  @HttpCode(200)
  @ApiOperation({ summary: "Verify the platform's own audit chain (operator actions, early refusals, query audits), bounded like a tenant's" })
  @ApiOkResponse({ type: AuditVerifyView })
  @ApiProblem(new AuditChainTooLongProblem(3_000_000n, 2_000_000))
  @ApiProblem(AuditVerifyBusyProblem)
  verifyPlatform(@Req() request: { user: Principal; id?: unknown }): Promise<AuditVerifyView> {
    return this.verifyRunner.platform({ ...request.user, requestId: typeof request.id === 'string' ? request.id : undefined });
  }

  @Post('tenants/:id/audit/shred')
  @HttpCode(200)
  @ApiOperation({
    summary: "Crypto-shred the tenant's audit key: personal data in its entries becomes unreadable for good; the chain still verifies",
  })
  @ApiOkResponse({ type: ShredView })
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @ApiProblem(TenantTrailErasedProblem)
  @ApiProblem(TenantTrailUnavailableProblem)
  async shred(@Param('id', new ParseIdPipe()) id: string, @Req() request: { user: Principal; id?: unknown }): Promise<ShredView> {
    const tenant = await this.living(id);
    return this.shredder.shred(tenant, request.user, typeof request.id === 'string' ? request.id : undefined);
  }

  @Post('tenants/:id/impersonations')
  @ApiOperation({
    summary: 'A short-lived grant to act inside one tenant (read-only unless `write`), recorded in the platform trail and the tenant trail, as is every use',
  })
  @ApiCreatedResponse({ type: ImpersonationView })
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @ApiProblem(TenantTrailErasedProblem)
  @ApiProblem(TenantTrailUnavailableProblem)
  async impersonate(
    @Param('id', new ParseIdPipe()) id: string,
    @Body() body: CreateImpersonationDto,
    @Req() request: { user: Principal; id?: unknown },
  ): Promise<ImpersonationView> {
    const tenant = await this.living(id);
    return this.impersonation.issue(request.user, tenant, { ...body, requestId: typeof request.id === 'string' ? request.id : undefined });
  }

  @Get('tenants/:id/impersonations')
  @ApiOperation({ summary: "The tenant's impersonation grants, newest first: who holds one, until when, and which were revoked" })
  @ApiOkResponse({ type: ImpersonationGrantList })
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @ApiProblem(TenantTrailErasedProblem)
  @ApiProblem(TenantTrailUnavailableProblem)
  async grants(@Param('id', new ParseIdPipe()) id: string): Promise<ImpersonationGrantList> {
    const tenant = await this.living(id);
    return { items: await this.impersonation.list(tenant) };
  }

  @Delete('tenants/:id/impersonations/:grantId')
  @ApiOperation({
    summary: 'Revoke a grant: no use of it is admitted from now on, on any instance; recorded in the platform trail and the tenant trail. Revoking it again answers the first revocation',
  })
  @ApiOkResponse({ type: ImpersonationGrantView })
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @ApiProblem(ImpersonationGrantNotFoundProblem)
  @ApiProblem(TenantTrailErasedProblem)
  @ApiProblem(TenantTrailUnavailableProblem)
  async revoke(
    @Param('id', new ParseIdPipe()) id: string,
    @Param('grantId', new ParseIdPipe()) grantId: string,
    @Req() request: { user: Principal; id?: unknown },
  ): Promise<ImpersonationGrantView> {
    const tenant = await this.living(id);
    return this.impersonation.revoke(request.user, tenant, grantId, typeof request.id === 'string' ? request.id : undefined);
  }

  @Get('audit')
  @ApiOperation({ summary: 'The platform audit trail: operator actions, and requests refused before a tenant was established' })
  @ApiOkResponse({ type: AuditPage })
  platform(@Query() query: AuditQuery): Promise<AuditPage> {
    return runWithTenant(this.trail.platformContext(), () => this.reader.page(query));
  }

  @Get('tenants/:id/audit')
  @ApiOperation({ summary: "A tenant's audit trail, read where it lives" })
  @ApiOkResponse({ type: AuditPage })
  @ApiProblem(404, 'tenant_not_found', 'Tenant not found')
  @ApiProblem(TenantTrailErasedProblem)
  @ApiProblem(TenantTrailUnavailableProblem)
  async tenant(@Param('id', new ParseIdPipe()) id: string, @Query() query: AuditQuery): Promise<AuditPage> {
    const tenant = await this.living(id);
    return runWithTenant(tenantContextOf(tenant, 'operator'), () => this.reader.page(query));
  }

  /**
   * The tenant, unless it was erased: then there is no trail or grant left to read (410, not a failed
   * read of dropped storage); or unless it is still provisioning: then its storage may not exist yet
   * (409, not a failed read of storage not made, nor rows left in the pool by an onboarding that fails).
   */
  private async living(id: string): Promise<TenantRecord> {
    const tenant = await this.tenants.get(id);
    if (tenant.status === 'deleted') throw new TenantTrailErasedProblem();
    if (tenant.status === 'provisioning') throw new TenantTrailUnavailableProblem();
    return tenant;
  }
}

import { ParseIdPipe } from '@bulkhead/domain-kit';
import { CreateTenantDto, TenantView } from '@bulkhead/control-plane';
import { OperatorOnly, Principal } from '@bulkhead/identity';
import { ApiProblem } from '@bulkhead/openapi';
import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ArchiveNotFoundProblem, CertificateNotFoundProblem, LifecycleExternalRefTakenProblem, LifecycleNotFoundProblem, LifecycleSlugTakenProblem, LifecycleStateProblem, OnboardingFailedProblem } from './lifecycle.errors';
import { LifecycleView, OffboardDto, SagaAccepted, SagaView } from './lifecycle.dto';
import { LifecycleService } from './lifecycle.service';
import { SagaStarter } from './saga/saga-starter';

const statusUrl = (tenantId: string) => `/v1/admin/tenants/${tenantId}/lifecycle`;

@ApiTags('admin')
@ApiBearerAuth()
@OperatorOnly()
@Controller('v1/admin')
export class LifecycleAdminController {
  constructor(
    private readonly lifecycle: LifecycleService,
    private readonly starter: SagaStarter,
  ) {}

  @Post('tenants')
  @ApiOperation({
    summary: 'Create a tenant and answer once it is active: the same onboarding saga as POST /v1/admin/onboardings (warm storage, seeding, host name, events), run to its end by this instance',
  })
  @ApiCreatedResponse({ type: TenantView })
  @ApiProblem(new LifecycleSlugTakenProblem())
  @ApiProblem(new LifecycleExternalRefTakenProblem())
  @ApiProblem(422, 'region_not_served', 'Region not served')
  @ApiProblem(new OnboardingFailedProblem())
  async create(@Body() body: CreateTenantDto, @Req() request: { user: Principal }): Promise<TenantView> {
    const { saga } = await this.lifecycle.onboard(body, 'operator', `operator:${request.user.subject}`);
    return TenantView.of(await this.lifecycle.completeOnboarding(saga.id));
  }

  @Post('onboardings')
  @HttpCode(202)
  @ApiOperation({ summary: 'Create a tenant through the onboarding saga: the slug is reserved now, the rest runs right after the answer (a worker job takes over if this instance stops)' })
  @ApiAcceptedResponse({ type: SagaAccepted })
  @ApiProblem(new LifecycleSlugTakenProblem())
  @ApiProblem(new LifecycleExternalRefTakenProblem())
  @ApiProblem(422, 'region_not_served', 'Region not served')
  async onboard(@Body() body: CreateTenantDto, @Req() request: { user: Principal }): Promise<SagaAccepted> {
    const { saga } = await this.lifecycle.onboard(body, 'operator', `operator:${request.user.subject}`);
    this.starter.continueHere(saga.id);
    return { tenantId: saga.tenantId, sagaId: saga.id, status: saga.status, statusUrl: statusUrl(saga.tenantId) };
  }

  @Get('tenants/:id/lifecycle')
  @ApiOperation({ summary: "A tenant's onboarding and offboarding sagas, step by step" })
  @ApiOkResponse({ type: LifecycleView })
  @ApiProblem(new LifecycleNotFoundProblem())
  async get(@Param('id', new ParseIdPipe()) id: string): Promise<LifecycleView> {
    const sagas = await this.lifecycle.sagasOf(id);
    return { tenantId: id, sagas: sagas.map(({ saga, steps }) => SagaView.of(saga, steps)) };
  }

  @Post('tenants/:id/lifecycle/retry')
  @HttpCode(202)
  @ApiOperation({ summary: "Run a failed saga again from its first unfinished step" })
  @ApiAcceptedResponse({ type: SagaAccepted })
  @ApiProblem(new LifecycleNotFoundProblem())
  @ApiProblem(new LifecycleStateProblem("The tenant's onboarding is running; only a failed one can be retried."))
  async retry(@Param('id', new ParseIdPipe()) id: string, @Req() request: { user: Principal }): Promise<SagaAccepted> {
    const saga = await this.lifecycle.retry(id, `operator:${request.user.subject}`);
    return { tenantId: id, sagaId: saga.id, status: saga.status, statusUrl: statusUrl(id) };
  }

  @Post('tenants/:id/lifecycle/abort')
  @HttpCode(202)
  @ApiOperation({ summary: 'Abort a running saga: its compensations run and it ends aborted' })
  @ApiAcceptedResponse({ type: SagaAccepted })
  @ApiProblem(new LifecycleNotFoundProblem())
  @ApiProblem(new LifecycleStateProblem("The tenant's onboarding is succeeded; only a running one can be aborted."))
  async abort(@Param('id', new ParseIdPipe()) id: string, @Req() request: { user: Principal }): Promise<SagaAccepted> {
    const saga = await this.lifecycle.abort(id, `operator:${request.user.subject}`);
    return { tenantId: id, sagaId: saga.id, status: saga.status, statusUrl: statusUrl(id) };
  }

  @Post('tenants/:id/offboard')
  @HttpCode(202)
  @ApiOperation({ summary: 'Offboard a tenant: fence it, export it, and after the grace period erase it from every store' })
  @ApiAcceptedResponse({ type: SagaAccepted })
  @ApiProblem(new LifecycleNotFoundProblem())
  @ApiProblem(new LifecycleStateProblem('The tenant is deleted; only an active or suspended tenant can be offboarded.'))
  async offboard(@Param('id', new ParseIdPipe()) id: string, @Body() body: OffboardDto, @Req() request: { user: Principal }): Promise<SagaAccepted> {
    const saga = await this.lifecycle.offboard(id, `operator:${request.user.subject}`, body?.graceDays);
    return { tenantId: id, sagaId: saga.id, status: saga.status, statusUrl: statusUrl(id) };
  }

  @Post('tenants/:id/restore')
  @HttpCode(202)
  @ApiOperation({ summary: 'Within the grace period: stop the offboarding and bring the tenant back whole' })
  @ApiAcceptedResponse({ type: SagaAccepted })
  @ApiProblem(new LifecycleNotFoundProblem())
  @ApiProblem(new LifecycleStateProblem('The grace period is over: erasure has begun.'))
  async restore(@Param('id', new ParseIdPipe()) id: string, @Req() request: { user: Principal }): Promise<SagaAccepted> {
    const saga = await this.lifecycle.restore(id, `operator:${request.user.subject}`);
    return { tenantId: id, sagaId: saga.id, status: saga.status, statusUrl: statusUrl(id) };
  }

  @Get('tenants/:id/archive')
  @ApiOperation({ summary: "The tenant's export archive (operators only; kept through the grace period). Manifest in the X-Archive-Manifest header" })
  @ApiProduces('application/json')
  @ApiOkResponse({ description: 'The archive: `{"format","registry","tables":[{"table","rows"}]}`' })
  @ApiProblem(new ArchiveNotFoundProblem())
  async archive(@Param('id', new ParseIdPipe()) id: string, @Res() reply: FastifyReply): Promise<void> {
    const archive = await this.lifecycle.archive(id);
    if (!archive) throw new ArchiveNotFoundProblem();
    await reply
      .header('content-type', 'application/json')
      .header('content-disposition', `attachment; filename="tenant-${id}.json"`)
      .header('digest', `sha-256=${Buffer.from(archive.sha256, 'hex').toString('base64')}`)
      .header('x-archive-manifest', JSON.stringify(archive.manifest))
      .send(archive.content);
  }

  @Get('tenants/:id/erasure-certificate')
  @ApiOperation({ summary: 'The erasure certificate: what was erased, counts before and after, times, the archive digest' })
  @ApiOkResponse({ description: 'The certificate (JSON, no personal data)' })
  @ApiProblem(new CertificateNotFoundProblem())
  async certificate(@Param('id', new ParseIdPipe()) id: string): Promise<Record<string, unknown>> {
    const certificate = await this.lifecycle.certificate(id);
    if (!certificate) throw new CertificateNotFoundProblem();
    return certificate;
  }
}

import { CreateTenantDto } from '@bulkhead/control-plane';
import { OperatorOnly, Principal } from '@bulkhead/identity';
import { ApiProblem } from '@bulkhead/openapi';
import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Req } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { LifecycleNotFoundProblem, LifecycleSlugTakenProblem, LifecycleStateProblem } from './lifecycle.errors';
import { LifecycleView, SagaAccepted, SagaView } from './lifecycle.dto';
import { LifecycleService } from './lifecycle.service';

const statusUrl = (tenantId: string) => `/v1/admin/tenants/${tenantId}/lifecycle`;

@ApiTags('admin')
@ApiBearerAuth()
@OperatorOnly()
@Controller('v1/admin')
export class LifecycleAdminController {
  constructor(private readonly lifecycle: LifecycleService) {}

  @Post('onboardings')
  @HttpCode(202)
  @ApiOperation({ summary: 'Create a tenant through the onboarding saga: the slug is reserved now, the rest runs in the worker' })
  @ApiAcceptedResponse({ type: SagaAccepted })
  @ApiProblem(new LifecycleSlugTakenProblem())
  @ApiProblem(422, 'region_not_served', 'Region not served')
  async onboard(@Body() body: CreateTenantDto, @Req() request: { user: Principal }): Promise<SagaAccepted> {
    const { saga } = await this.lifecycle.onboard(body, 'operator', `operator:${request.user.subject}`);
    return { tenantId: saga.tenantId, sagaId: saga.id, status: saga.status, statusUrl: statusUrl(saga.tenantId) };
  }

  @Get('tenants/:id/lifecycle')
  @ApiOperation({ summary: "A tenant's onboarding and offboarding sagas, step by step" })
  @ApiOkResponse({ type: LifecycleView })
  @ApiProblem(new LifecycleNotFoundProblem())
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<LifecycleView> {
    const sagas = await this.lifecycle.sagasOf(id);
    return { tenantId: id, sagas: sagas.map(({ saga, steps }) => SagaView.of(saga, steps)) };
  }

  @Post('tenants/:id/lifecycle/retry')
  @HttpCode(202)
  @ApiOperation({ summary: "Run a failed saga again from its first unfinished step" })
  @ApiAcceptedResponse({ type: SagaAccepted })
  @ApiProblem(new LifecycleNotFoundProblem())
  @ApiProblem(new LifecycleStateProblem("The tenant's onboarding is running; only a failed one can be retried."))
  async retry(@Param('id', new ParseUUIDPipe()) id: string, @Req() request: { user: Principal }): Promise<SagaAccepted> {
    const saga = await this.lifecycle.retry(id, `operator:${request.user.subject}`);
    return { tenantId: id, sagaId: saga.id, status: saga.status, statusUrl: statusUrl(id) };
  }

  @Post('tenants/:id/lifecycle/abort')
  @HttpCode(202)
  @ApiOperation({ summary: 'Abort a running saga: its compensations run and it ends aborted' })
  @ApiAcceptedResponse({ type: SagaAccepted })
  @ApiProblem(new LifecycleNotFoundProblem())
  @ApiProblem(new LifecycleStateProblem("The tenant's onboarding is succeeded; only a running one can be aborted."))
  async abort(@Param('id', new ParseUUIDPipe()) id: string, @Req() request: { user: Principal }): Promise<SagaAccepted> {
    const saga = await this.lifecycle.abort(id, `operator:${request.user.subject}`);
    return { tenantId: id, sagaId: saga.id, status: saga.status, statusUrl: statusUrl(id) };
  }
}

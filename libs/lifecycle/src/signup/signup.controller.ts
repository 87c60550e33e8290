import { ParseIdPipe } from '@bulkhead/domain-kit';
import { BulkheadConfig } from '@bulkhead/config';
import { HandlesIdempotencyKey } from '@bulkhead/idempotency';
import { Public } from '@bulkhead/identity';
import { ApiProblem } from '@bulkhead/openapi';
import { Body, Controller, Get, Headers, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiAcceptedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { LifecycleExternalRefTakenProblem, LifecycleSlugTakenProblem, SignupKeyRequiredProblem, SignupKeyReusedProblem, SignupNotFoundProblem, SignupRateLimitedProblem } from '../lifecycle.errors';
import { SagaAccepted, SignupDto, SignupStatusView } from '../lifecycle.dto';
import { LifecycleService } from '../lifecycle.service';
import { parseSignupKey } from './signup-key';
import { SignupRateLimiter } from './signup-rate-limiter';
import { SagaStarter } from '../saga/saga-starter';

@ApiTags('signup')
@Public()
@Controller('v1/signup')
export class SignupController {
  constructor(
    private readonly lifecycle: LifecycleService,
    private readonly limiter: SignupRateLimiter,
    private readonly config: BulkheadConfig,
    private readonly starter: SagaStarter,
  ) {}

  @Post()
  @HandlesIdempotencyKey()
  @HttpCode(202)
  @ApiOperation({ summary: 'Sign up: reserves the slug and starts onboarding; follow the status URL until it succeeds' })
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'A quoted string, fresh per intended signup: a repeated submit creates one tenant.' })
  @ApiAcceptedResponse({ type: SagaAccepted })
  @ApiProblem(new SignupKeyRequiredProblem())
  @ApiProblem(new SignupKeyReusedProblem())
  @ApiProblem(new LifecycleSlugTakenProblem())
  @ApiProblem(new LifecycleExternalRefTakenProblem())
  @ApiProblem(new SignupRateLimitedProblem(60))
  async signup(@Body() body: SignupDto, @Headers('idempotency-key') key: string | undefined, @Req() request: FastifyRequest): Promise<SagaAccepted> {
    const parsed = parseSignupKey(key);
    await this.limiter.take(request.ip);
    const { saga } = await this.lifecycle.onboard({ ...body, tier: this.config.SIGNUP_TIER }, 'signup', 'signup', `signup:${parsed}`);
    this.starter.continueHere(saga.id);
    return { tenantId: saga.tenantId, sagaId: saga.id, status: saga.status, statusUrl: `/v1/signup/${saga.id}` };
  }

  @Get(':id')
  @ApiOperation({ summary: "A signup's progress (its id is the one the signup answered)" })
  @ApiOkResponse({ type: SignupStatusView })
  @ApiProblem(new SignupNotFoundProblem())
  async status(@Param('id', new ParseIdPipe()) id: string): Promise<SignupStatusView> {
    const found = await this.lifecycle.saga(id);
    if (!found || found.saga.kind !== 'onboarding' || found.saga.startedBy !== 'signup') throw new SignupNotFoundProblem();
    return {
      signupId: found.saga.id,
      tenantId: found.saga.tenantId,
      status: found.saga.status,
      // The reason names a step and a code, never another tenant's data.
      reason: found.saga.reason,
      done: found.steps.filter((step) => step.status === 'succeeded').map((step) => step.step),
    };
  }
}

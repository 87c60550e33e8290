import { TENANT_SLUG_PATTERN_SOURCE } from './lifecycle.patterns';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { SagaRecord, StepRecord } from './saga/saga.record';

export class SignupDto {
  @ApiProperty({ example: 'acme', description: 'Lower-case letters, digits and single hyphens, 3-40 characters; your subdomain.' })
  @IsString()
  @Matches(new RegExp(TENANT_SLUG_PATTERN_SOURCE), { message: 'slug must be 3-40 lower-case letters, digits or single hyphens, starting with a letter' })
  slug!: string;

  @ApiProperty({ example: 'Acme Corp' })
  @IsString()
  @Length(1, 200)
  name!: string;

  // No external reference here: with AUTH_TENANT_CLAIM_REFERS_TO=external_ref it decides which
  // tenant an identity provider organisation's tokens reach, and an anonymous caller could bind
  // (or squat) any organisation's id. Operators link it (POST /v1/admin/onboardings).
}

export class StepView {
  @ApiProperty() step!: string;
  @ApiProperty({ enum: ['pending', 'running', 'succeeded', 'failed', 'compensated'] }) status!: string;
  @ApiProperty({ type: 'integer', description: 'Runs started (a killed run counts).' }) attempts!: number;
  @ApiProperty({ type: 'integer', description: 'Real failures (an unreachable database does not count).' }) failures!: number;
  @ApiProperty({ nullable: true, type: String }) lastError!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) details!: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) startedAt!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) finishedAt!: string | null;

  static of(step: StepRecord): StepView {
    return Object.assign(new StepView(), {
      step: step.step,
      status: step.status,
      attempts: step.attempts,
      failures: step.failures,
      lastError: step.lastError,
      details: step.details,
      startedAt: step.startedAt?.toISOString() ?? null,
      finishedAt: step.finishedAt?.toISOString() ?? null,
    });
  }
}

export class SagaView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty({ enum: ['onboarding', 'offboarding', 'restore'] }) kind!: string;
  @ApiProperty({ enum: ['running', 'succeeded', 'failed', 'compensating', 'aborted'] }) status!: string;
  @ApiProperty({ nullable: true, type: String, description: 'Why it failed or was aborted.' }) reason!: string | null;
  @ApiProperty() startedBy!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) finishedAt!: string | null;
  @ApiProperty({ type: [StepView] }) steps!: StepView[];

  static of(saga: SagaRecord, steps: StepRecord[]): SagaView {
    return Object.assign(new SagaView(), {
      id: saga.id,
      tenantId: saga.tenantId,
      kind: saga.kind,
      status: saga.status,
      reason: saga.reason,
      startedBy: saga.startedBy,
      createdAt: saga.createdAt.toISOString(),
      finishedAt: saga.finishedAt?.toISOString() ?? null,
      steps: steps.map(StepView.of),
    });
  }
}

export class LifecycleView {
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty({ type: [SagaView], description: 'Every saga of the tenant, oldest first.' }) sagas!: SagaView[];
}

export class SagaAccepted {
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty({ format: 'uuid' }) sagaId!: string;
  @ApiProperty({ enum: ['running', 'succeeded', 'failed', 'compensating', 'aborted'] }) status!: string;
  @ApiProperty({ description: 'Where to follow its progress.' }) statusUrl!: string;
}

export class SignupStatusView {
  @ApiProperty({ format: 'uuid' }) signupId!: string;
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty({ enum: ['running', 'succeeded', 'failed', 'compensating', 'aborted'] }) status!: string;
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
  @ApiProperty({ type: [String], description: 'Steps done so far.' }) done!: string[];
}

export class OffboardDto {
  @ApiPropertyOptional({ minimum: 0, maximum: 3650, description: 'Days the tenant can still be restored before it is erased (default LIFECYCLE_GRACE_DAYS).' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(3650)
  graceDays?: number;
}

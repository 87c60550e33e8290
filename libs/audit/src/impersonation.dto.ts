import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';

export class CreateImpersonationDto {
  @ApiProperty({ enum: ['read', 'write'], description: '`read` unless writes are needed: a read grant makes every transaction READ ONLY.' })
  @IsIn(['read', 'write'])
  mode!: 'read' | 'write';

  @ApiProperty({ description: 'Why: recorded (encrypted with the tenant key) in both trails, shown to the tenant.', example: 'Ticket 4711: customer cannot see orders' })
  @IsString()
  @Length(3, 500)
  reason!: string;

  @ApiPropertyOptional({ minimum: 60, maximum: 3600, description: 'Lifetime, capped at AUDIT_IMPERSONATION_MAX_SECONDS (default 900).' })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(3600)
  ttlSeconds?: number;
}

export class ImpersonationView {
  @ApiProperty({ description: 'Send it as `X-Impersonation-Grant` beside your own operator token.' }) grant!: string;
  @ApiProperty({ format: 'uuid', description: "The grant's id, to revoke it: `DELETE /v1/admin/tenants/{id}/impersonations/{grantId}`." }) id!: string;
  @ApiProperty({ format: 'uuid', description: 'The same as `id`.' }) grantId!: string;
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty({ enum: ['read', 'write'] }) mode!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
}

export class ShredView {
  @ApiProperty({ description: 'false when the key had already been shredded.' }) shredded!: boolean;
}

export class ImpersonationGrantView {
  @ApiProperty({ format: 'uuid' }) grantId!: string;
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty({ description: 'The operator the grant was issued to.' }) operator!: string;
  @ApiProperty({ enum: ['read', 'write'] }) mode!: string;
  @ApiProperty({ format: 'date-time' }) issuedAt!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'Set once revoked: no use is admitted after it.' }) revokedAt!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The operator who revoked it.' }) revokedBy!: string | null;
}

export class ImpersonationGrantList {
  @ApiProperty({ type: [ImpersonationGrantView], description: 'Newest first, the last 100, revoked and expired ones included.' }) items!: ImpersonationGrantView[];
}

import { QueryInteger } from '@bulkhead/domain-kit';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Length, Matches, Max, Min } from 'class-validator';
import { ISOLATION_MODELS, IsolationModel, TENANT_TIERS, TenantTier } from '@bulkhead/config';
import { TENANT_SLUG_PATTERN, TENANT_STATUSES, TenantRecord, TenantStatus } from './tenant.record';

export class CreateTenantDto {
  @ApiProperty({ example: 'acme', description: 'Lower-case letters, digits and single hyphens, 3-40 characters; used as the subdomain.' })
  @IsString()
  @Matches(TENANT_SLUG_PATTERN, { message: 'slug must be 3-40 lower-case letters, digits or single hyphens, starting with a letter' })
  slug!: string;

  @ApiProperty({ example: 'Acme Corp' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ enum: TENANT_TIERS })
  @IsIn(TENANT_TIERS)
  tier!: TenantTier;

  @ApiPropertyOptional({ enum: ISOLATION_MODELS, description: 'Overrides the tier policy (TENANT_TIER_ISOLATION: free pool, pro schema, enterprise silo).' })
  @IsOptional()
  @IsIn(ISOLATION_MODELS)
  isolation?: IsolationModel;

  @ApiPropertyOptional({ example: 'local', description: "Defaults to this deployment's REGION." })
  @IsOptional()
  @Matches(/^[a-z0-9-]{2,32}$/)
  region?: string;

  @ApiPropertyOptional({ example: 'org_9xQe2v', description: "The identity provider's organisation id, when tokens carry that instead of the tenant id." })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  externalRef?: string;
}

export class ListTenantsQuery {
  @ApiPropertyOptional({ description: 'Cursor: the id of the last tenant of the previous page.' })
  @IsOptional()
  @IsUUID()
  after?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ enum: TENANT_STATUSES })
  @IsOptional()
  @IsIn(TENANT_STATUSES)
  status?: TenantStatus;

  @ApiPropertyOptional({ enum: TENANT_TIERS })
  @IsOptional()
  @IsIn(TENANT_TIERS)
  tier?: TenantTier;

  @ApiPropertyOptional({ enum: ISOLATION_MODELS })
  @IsOptional()
  @IsIn(ISOLATION_MODELS)
  isolation?: IsolationModel;

  @ApiPropertyOptional({ example: 'local' })
  @IsOptional()
  @Matches(/^[a-z0-9-]{2,32}$/)
  region?: string;

  @ApiPropertyOptional({ example: 'acme', description: 'Tenants whose slug starts with this text.' })
  @IsOptional()
  @Matches(/^[a-z0-9-]{1,40}$/, { message: 'search must be 1-40 lower-case letters, digits or hyphens' })
  search?: string;
}

export class TenantView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ pattern: TENANT_SLUG_PATTERN.source }) slug!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: TENANT_TIERS }) tier!: TenantTier;
  @ApiProperty({ enum: ISOLATION_MODELS }) isolation!: IsolationModel;
  @ApiProperty({ enum: TENANT_STATUSES }) status!: TenantStatus;
  @ApiProperty() region!: string;
  @ApiProperty({ nullable: true, type: String }) externalRef!: string | null;
  @ApiProperty() cluster!: string;
  @ApiProperty({ nullable: true, type: String }) schemaName!: string | null;
  @ApiProperty({ nullable: true, type: String }) databaseName!: string | null;
  @ApiProperty({ type: 'integer', minimum: 0 }) dataVersion!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;

  static of(record: TenantRecord): TenantView {
    return Object.assign(new TenantView(), {
      ...record,
      createdAt: record.createdAt.toISOString(),
      updatedAt: record.updatedAt.toISOString(),
    });
  }
}

export class TenantPage {
  @ApiProperty({ type: [TenantView] }) items!: TenantView[];
  @ApiProperty({ nullable: true, type: String, format: 'uuid', description: 'Pass as `after` to get the next page; null on the last page.' })
  next!: string | null;
}

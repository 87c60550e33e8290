import { QueryInteger } from '@bulkhead/domain-kit';
import { IsOmittable } from '@bulkhead/openapi';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsUUID, Max, Min } from 'class-validator';

export class NoisyFindingView {
  @ApiProperty({ enum: ['requests', 'db_ms', 'job_ms', 'rows_written'] }) measure!: string;
  @ApiProperty() value!: number;
  @ApiProperty() median!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'value / median; null when the median was 0' }) ratio!: number | null;
}

export class CurrentNoisyTenantView {
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty({ format: 'date-time', description: 'The first minute of the streak that flagged it' }) since!: string;
  @ApiProperty({ format: 'date-time', description: 'The latest minute it was noisy in' }) lastMinute!: string;
  @ApiProperty({ type: [NoisyFindingView] }) findings!: NoisyFindingView[];
}

export class CurrentNoisyTenantsView {
  @ApiProperty({ type: [CurrentNoisyTenantView] }) items!: CurrentNoisyTenantView[];
}

export class NoisyEventView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty({ enum: ['flagged', 'cleared'] }) event!: string;
  @ApiProperty({ format: 'date-time' }) minute!: string;
  @ApiProperty({ type: [NoisyFindingView] }) findings!: NoisyFindingView[];
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class NoisyEventPage {
  @ApiProperty({ type: [NoisyEventView] }) items!: NoisyEventView[];
  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'Pass as `before` for the next page' }) next!: string | null;
}

export class NoisyHistoryQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOmittable() @QueryInteger() @IsInt() @Min(1) @Max(200) limit?: number;

  @ApiPropertyOptional({ format: 'uuid', description: 'The previous page’s `next`' })
  @IsOmittable() @IsUUID() before?: string;
}

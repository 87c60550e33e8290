import { PageQuery } from '@bulkhead/domain-kit';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { IsRfc3339Instant } from '@bulkhead/rfc3339';
import { GRANULARITIES, Granularity } from '../usage/usage-period';
import { METER_AGGREGATIONS, MeterAggregation } from '../meters/meter.definition';

export class UsageQuery {
  @ApiProperty({ example: 'orders.created' })
  @Matches(/^[a-z][a-z0-9_.-]{0,63}$/, { message: 'meter must name a meter' })
  meter!: string;

  @ApiProperty({ description: 'Start (inclusive, RFC 3339): periods starting at or after it.', example: '2026-11-01T00:00:00Z' })
  @IsRfc3339Instant()
  from!: string;

  @ApiProperty({ description: 'End (exclusive, RFC 3339).', example: '2026-12-01T00:00:00Z' })
  @IsRfc3339Instant()
  to!: string;

  @ApiPropertyOptional({ enum: GRANULARITIES, default: 'day' })
  @IsOptional()
  @IsIn(GRANULARITIES)
  granularity?: Granularity;
}

export class AdminUsageQuery extends PageQuery {
  @ApiProperty({ example: 'orders.created' })
  @Matches(/^[a-z][a-z0-9_.-]{0,63}$/, { message: 'meter must name a meter' })
  meter!: string;

  @ApiProperty({ example: '2026-11-01T00:00:00Z' })
  @IsRfc3339Instant()
  from!: string;

  @ApiProperty({ example: '2026-12-01T00:00:00Z' })
  @IsRfc3339Instant()
  to!: string;

  @ApiPropertyOptional({ enum: GRANULARITIES, default: 'day' })
  @IsOptional()
  @IsIn(GRANULARITIES)
  granularity?: Granularity;
}

export class UsageBucketView {
  @ApiProperty({ format: 'date-time' }) start!: string;
  @ApiProperty({ description: 'Exact decimal, as a string.', example: '42' }) value!: string;
}

export class UsageReportView {
  @ApiProperty() meter!: string;
  @ApiProperty({ enum: METER_AGGREGATIONS }) aggregation!: MeterAggregation;
  @ApiProperty() unit!: string;
  @ApiProperty({ enum: GRANULARITIES }) granularity!: Granularity;
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ format: 'date-time' }) to!: string;
  @ApiProperty({ type: String, nullable: true, description: 'Over the whole range (count, sum and max meters; null for the others).' }) total!: string | null;
  @ApiProperty({ type: [UsageBucketView], description: 'Periods with usage, oldest first.' }) buckets!: UsageBucketView[];
}

export class TenantUsageView {
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty() slug!: string;
  @ApiProperty() tier!: string;
  @ApiProperty() isolation!: string;
  @ApiProperty({ enum: ['ok', 'unavailable'], description: 'unavailable: its placement could not be read just now (total null).' }) status!: 'ok' | 'unavailable';
  @ApiProperty({ type: String, nullable: true }) total!: string | null;
  @ApiProperty({ type: 'integer' }) periods!: number;
}

export class AdminUsagePage {
  @ApiProperty() meter!: string;
  @ApiProperty({ type: [TenantUsageView] }) items!: TenantUsageView[];
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) next!: string | null;
}

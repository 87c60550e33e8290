import { QueryInteger } from '@bulkhead/domain-kit';
import { ROUTE_CLASSES, RouteClass } from '@bulkhead/config';
import { IsRfc3339Instant } from '@bulkhead/rfc3339';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

export const MAX_COUNT_MINUTES = 1440;
/** In UTC: the minutes reported are UTC minutes. */
const UTC = /Z$/i;

export class RequestCountsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_COUNT_MINUTES, default: 60, description: 'How many minutes, ending with the minute of `end`.' })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(MAX_COUNT_MINUTES)
  minutes?: number;

  @ApiPropertyOptional({ description: 'A UTC time in the last minute to report (default: now). Counts are kept REQUEST_COUNTS_RETENTION_HOURS.', example: '2026-11-25T12:00:00Z' })
  @IsOptional()
  @IsRfc3339Instant({ message: 'end must be a UTC time such as 2026-11-25T12:00:00Z' })
  @Matches(UTC, { message: 'end must be a UTC time such as 2026-11-25T12:00:00Z' })
  end?: string;
}

/** Requests per route class. */
export class ClassCounts implements Record<RouteClass, number> {
  @ApiProperty({ minimum: 0 }) read!: number;
  @ApiProperty({ minimum: 0 }) write!: number;
  @ApiProperty({ minimum: 0 }) export!: number;
  @ApiProperty({ minimum: 0 }) ingest!: number;
}

export class MinuteCounts {
  @ApiProperty({ format: 'date-time', description: 'Start of the minute (UTC).' }) minute!: string;
  @ApiProperty({ type: ClassCounts, description: 'Requests the limiter let through.' }) admitted!: ClassCounts;
  @ApiProperty({ type: ClassCounts, description: 'Requests refused with 429 rate_limited.' }) refused!: ClassCounts;
}

export class RequestCountsView {
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty({ format: 'date-time', description: 'Start of the first minute reported.' }) from!: string;
  @ApiProperty({ format: 'date-time', description: 'End of the last minute reported (exclusive).' }) to!: string;
  @ApiProperty({ type: ClassCounts }) admitted!: ClassCounts;
  @ApiProperty({ type: ClassCounts }) refused!: ClassCounts;
  @ApiProperty({ type: [MinuteCounts], description: 'Only minutes with at least one request, oldest first.' }) minutes!: MinuteCounts[];
}

export function emptyCounts(): ClassCounts {
  return Object.fromEntries(ROUTE_CLASSES.map((routeClass) => [routeClass, 0])) as unknown as ClassCounts;
}

import { ROUTE_CLASSES, RouteClass } from '@bulkhead/config';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

export const MAX_COUNT_MINUTES = 1440;
/** A UTC timestamp; every string it admits is a date (Date rolls 02-30 over to 03-01). */
const UTC_TIMESTAMP = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,3})?)?Z$/;

export class RequestCountsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_COUNT_MINUTES, default: 60, description: 'How many minutes, ending with the minute of `end`.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_COUNT_MINUTES)
  minutes?: number;

  @ApiPropertyOptional({ description: 'A UTC time in the last minute to report (default: now). Counts are kept REQUEST_COUNTS_RETENTION_HOURS.', example: '2026-11-25T12:00:00Z' })
  @IsOptional()
  @Matches(UTC_TIMESTAMP, { message: 'end must be a UTC time such as 2026-11-25T12:00:00Z' })
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

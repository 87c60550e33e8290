import { ROUTE_CLASSES, RouteClass } from '@bulkhead/config';
import { ApiProperty } from '@nestjs/swagger';

export class RouteClassLimitView {
  @ApiProperty({ enum: ROUTE_CLASSES }) routeClass!: RouteClass;
  @ApiProperty({ type: 'integer', description: "Requests per window its tier allows (RATE_LIMIT_<TIER>)." }) tierLimit!: number;
  @ApiProperty({ type: 'integer', description: 'Requests per window enforced now, for the fleet: the tier limit, or lowered while the tenant is flagged noisy.' }) limit!: number;
  @ApiProperty({ type: 'integer', description: "This API instance's share of `limit`, enforced in memory while Redis is unreachable (divided by RATE_LIMIT_API_INSTANCES)." }) outageLimit!: number;
  @ApiProperty({ type: 'integer', nullable: true, description: 'Requests the tenant could send at once now (GCRA state in Redis); null when Redis could not be read.' }) remaining!: number | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'Seconds until the allowance is whole again; null when Redis could not be read.' }) resetSeconds!: number | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'Requests admitted in the current minute, fleet-wide (the request counts); null when Redis could not be read.' }) admittedThisMinute!: number | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'Requests refused with 429 in the current minute; null when Redis could not be read.' }) refusedThisMinute!: number | null;
}

export class TenantRateLimitsView {
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty() tier!: string;
  @ApiProperty({ type: 'integer', description: 'Every limit is per this many seconds.', example: 60 }) windowSeconds!: number;
  @ApiProperty({ type: Number, nullable: true, description: "The noisy-neighbour factor lowering the tier's limits (NOISY_THROTTLE_FACTOR) while the tenant is flagged; null when not throttled." }) throttleFactor!: number | null;
  @ApiProperty({ description: 'True while this API instance decides in memory (Redis unreachable or slow): then `outageLimit` applies, per instance.' }) inMemory!: boolean;
  @ApiProperty({ type: [RouteClassLimitView] }) classes!: RouteClassLimitView[];
}

import { IsOmittable } from '@bulkhead/openapi';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsNumber, IsObject, IsOptional, Max, Min, ValidateNested } from 'class-validator';

export class RateLimitDto {
  @IsInt() @Min(1) @Max(1_000_000) max!: number;
  @IsInt() @Min(1) @Max(86_400_000) durationMs!: number;
}

export class JobPolicyDto {
  @ApiPropertyOptional({ description: 'Share of dispatch under contention (tier default: free 1, pro 2, enterprise 4).' })
  @IsOmittable() @IsNumber() @Min(0.01) @Max(1000) weight?: number;

  @ApiPropertyOptional({ description: 'Jobs admitted and unfinished at once, across all workers.' })
  @IsOmittable() @IsInt() @Min(1) @Max(10_000) maxConcurrency?: number;

  @ApiPropertyOptional({ description: 'Admissions per window, or null for none.', nullable: true, type: RateLimitDto })
  // ValidateNested alone validates each element of an array ([] passes): IsObject refuses arrays.
  @IsOptional() @IsObject() @ValidateNested() @Type(() => RateLimitDto) rateLimit?: RateLimitDto | null;

  @ApiPropertyOptional({ description: 'Jobs buffered before enqueue answers 429.' })
  @IsOmittable() @IsInt() @Min(0) @Max(10_000_000) maxBacklog?: number;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { FAST_VALIDATION } from '@bulkhead/problem';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsObject, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { IsRfc3339Instant } from '@bulkhead/rfc3339';
import { EVENT_ID, EVENT_SOURCE, EVENT_TYPE as TYPE, MAX_BATCH_EVENTS, validateUsageEventBatch } from './usage-event-batch.validator';

/**
 * One usage event, shaped as a CloudEvent (CloudEvents 1.0 JSON format). `type` names the meter.
 * No extension attributes are accepted: in particular nothing may name a tenant (the token does).
 */
export class UsageEventDto {
  @ApiProperty({ enum: ['1.0'] })
  @IsIn(['1.0'])
  specversion!: string;

  @ApiProperty({ description: 'Unique per tenant, forever: a repeat of an id already accepted is a duplicate and counts zero times.', example: 'evt_01HZX3' })
  @Matches(EVENT_ID, { message: 'id must be 1-100 printable ASCII characters without spaces' })
  id!: string;

  @ApiProperty({ example: 'https://app.example.com/worker-7', maxLength: 255 })
  @IsString()
  @MaxLength(255)
  @Matches(EVENT_SOURCE, { message: 'source must not be empty' })
  source!: string;

  @ApiProperty({ description: 'The meter, e.g. compute.seconds', example: 'compute.seconds' })
  @Matches(TYPE, { message: 'type must name a meter: lower-case letters, digits, ".", "_", "-"' })
  type!: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'When the usage happened (RFC 3339); defaults to receipt. At most 35 days ago and 5 minutes ahead.', example: '2026-11-25T10:00:00Z' })
  @IsOptional()
  @IsRfc3339Instant()
  time?: string | null;

  @ApiPropertyOptional({ type: String, maxLength: 255 })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  subject?: string | null;

  @ApiPropertyOptional({ type: String, enum: ['application/json'] })
  @IsOptional()
  @IsIn(['application/json'])
  datacontenttype?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: "The meter's property (e.g. `seconds`) and anything else worth keeping.", example: { seconds: 12.5 } })
  @IsOptional()
  @IsObject()
  data?: Record<string, unknown> | null;
}

export class UsageEventBatchDto {
  @ApiProperty({ type: [UsageEventDto], minItems: 1, maxItems: MAX_BATCH_EVENTS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_EVENTS)
  @ValidateNested({ each: true })
  @Type(() => UsageEventDto)
  events!: UsageEventDto[];

  /** The same rules, checked by hand: the validation pipe uses this for speed (see FAST_VALIDATION). */
  static readonly [FAST_VALIDATION] = (body: unknown): UsageEventBatchDto => validateUsageEventBatch(body) as UsageEventBatchDto;
}

export const EVENT_FATES = ['accepted', 'duplicate', 'refused'] as const;
export const REFUSAL_REASONS = ['too_old', 'in_future', 'unknown_meter', 'meter_not_ingestable', 'id_reserved', 'value_invalid', 'tenant_in_body'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export class UsageEventFate {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: EVENT_FATES }) status!: (typeof EVENT_FATES)[number];
  @ApiPropertyOptional({ enum: REFUSAL_REASONS }) reason?: RefusalReason;
  @ApiPropertyOptional() detail?: string;
}

export class UsageIngestResult {
  @ApiProperty({ type: 'integer' }) accepted!: number;
  @ApiProperty({ type: 'integer' }) duplicates!: number;
  @ApiProperty({ type: 'integer' }) refused!: number;
  @ApiProperty({ type: [UsageEventFate], description: "Each event's fate, in the order sent." }) results!: UsageEventFate[];
}

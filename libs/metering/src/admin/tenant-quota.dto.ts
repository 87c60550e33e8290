import { ApiProperty } from '@nestjs/swagger';
import { METER_AGGREGATIONS, MeterAggregation } from '../meters/meter.definition';

/**
 * Where a meter stands against the tenant's plan this period: `no_quota` (its plan does not cap
 * it), `ok`, `warning` (80% or more used), `blocked` (the quota is used up: the next billable
 * action is refused with 429 `quota_exceeded`), `over` (more used than the quota allows: the plan
 * was lowered, or the quota added, during the period; blocked too).
 */
export const QUOTA_STATES = ['no_quota', 'ok', 'warning', 'blocked', 'over'] as const;
export type QuotaState = (typeof QUOTA_STATES)[number];

export class MeterQuotaView {
  @ApiProperty({ example: 'orders.created' }) meter!: string;
  @ApiProperty({ enum: METER_AGGREGATIONS }) aggregation!: MeterAggregation;
  @ApiProperty() unit!: string;
  @ApiProperty({ enum: ['recorded', 'ingested'], description: 'Quotas refuse recorded meters only; ingested usage already happened and is never refused.' }) origin!: 'recorded' | 'ingested';
  @ApiProperty({ enum: ['day', 'month'], description: "The quota's period, or month for a meter without one." }) per!: 'day' | 'month';
  @ApiProperty({ format: 'date-time' }) periodStart!: string;
  @ApiProperty({ format: 'date-time', description: 'When the period (and its quota) starts again.' }) resetsAt!: string;
  @ApiProperty({ description: "This period's value, an exact decimal as a string ('0' when nothing yet; the quota's measure for a capped meter).", example: '42' }) used!: string;
  @ApiProperty({ type: 'integer', nullable: true, description: 'The plan limit for the period; null when the plan does not cap this meter.' }) quota!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'used / quota (1 = all of it; above 1 when over); null without a quota.', example: 0.42 }) share!: number | null;
  @ApiProperty({ enum: QUOTA_STATES }) state!: QuotaState;
}

export class TenantQuotaUsageView {
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty() tier!: string;
  @ApiProperty({ format: 'date-time', description: 'When it was read: the periods are the ones holding this instant (UTC).' }) at!: string;
  @ApiProperty({ type: [MeterQuotaView], description: 'Every declared meter, those with a quota first.' }) meters!: MeterQuotaView[];
}

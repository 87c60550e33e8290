import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { BILLING_PERIOD_PATTERN } from '../usage/usage-period';

const PERIOD = new RegExp(BILLING_PERIOD_PATTERN);

export class BillingPeriodDto {
  @ApiProperty({ description: 'A calendar month (UTC), YYYY-MM, of the years 2000-2999.', example: '2026-11' })
  @Matches(PERIOD, { message: 'period must be a calendar month as YYYY-MM, of the years 2000-2999' })
  period!: string;
}

/** A fleet operation works on one page of tenants per request; `next` continues it. */
export class BillingPageDto extends BillingPeriodDto {
  @ApiPropertyOptional({ description: 'Cursor: the `next` of the previous page.', format: 'uuid' })
  @IsOptional()
  @IsUUID()
  after?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20, description: 'Tenants in this page.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}

export class BillingExportDto extends BillingPageDto {
  @ApiPropertyOptional({ enum: ['jsonl', 'csv'], default: 'jsonl' })
  @IsOptional()
  @IsIn(['jsonl', 'csv'])
  format?: 'jsonl' | 'csv';
}

export class BillingTenantExportDto extends BillingPeriodDto {
  @ApiPropertyOptional({ enum: ['jsonl', 'csv'], default: 'jsonl' })
  @IsOptional()
  @IsIn(['jsonl', 'csv'])
  format?: 'jsonl' | 'csv';
}

export class AcknowledgeDriftDto extends BillingPeriodDto {
  @ApiPropertyOptional({ maxLength: 1000, description: 'Why the drift is acceptable (kept with the reconciliation).' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  note?: string;
}

export class MeterReconciliationView {
  @ApiProperty() meter!: string;
  @ApiProperty({ type: String, nullable: true, description: "The source of truth's total (recorded meters)." }) sourceTotal!: string | null;
  @ApiProperty() logTotal!: string;
  @ApiProperty() rollupTotal!: string;
  @ApiProperty({ enum: ['ok', 'drift', 'acknowledged'] }) status!: string;
}

export class TenantReconciliationView {
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty() slug!: string;
  @ApiProperty() period!: string;
  @ApiProperty({ enum: ['ok', 'drift', 'unavailable'], description: 'drift blocks the export of this tenant for this period until acknowledged; unavailable: its placement could not be read.' }) status!: string;
  @ApiProperty({ type: [MeterReconciliationView] }) meters!: MeterReconciliationView[];
}

export class ReconciliationReport {
  @ApiProperty() period!: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'Pass as `after` for the next page of tenants; null on the last.' }) next!: string | null;
  @ApiProperty({ type: [TenantReconciliationView] }) tenants!: TenantReconciliationView[];
}

export class TenantExportSummary {
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty() slug!: string;
  @ApiProperty({ enum: ['exported', 'blocked', 'unavailable'] }) status!: string;
  @ApiProperty({ type: 'integer' }) events!: number;
}

export class BillingExportView {
  @ApiProperty() period!: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'Pass as `after` for the next page of tenants; null on the last.' }) next!: string | null;
  @ApiProperty({ enum: ['jsonl', 'csv'] }) format!: string;
  @ApiProperty({ type: [TenantExportSummary] }) tenants!: TenantExportSummary[];
  @ApiProperty({ description: 'Stripe v2 meter events as JSON lines (our event id as identifier), or CSV.' }) content!: string;
}

export class TenantSendView {
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty() slug!: string;
  @ApiProperty({ enum: ['sent', 'blocked', 'failed'] }) status!: string;
  @ApiProperty({ type: 'integer', description: 'Events sent by this run (never one sent before).' }) sent!: number;
  @ApiPropertyOptional() error?: string;
}

export class BillingSendReport {
  @ApiProperty() period!: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'Pass as `after` for the next page of tenants; null on the last.' }) next!: string | null;
  @ApiProperty({ type: [TenantSendView] }) tenants!: TenantSendView[];
}

export class AcknowledgedView {
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty() period!: string;
  @ApiProperty({ type: 'integer', description: 'Meters acknowledged by this call (0 when none drifted).' }) acknowledged!: number;
}

import { ApiProperty } from '@nestjs/swagger';

export class CustomerTotalsView {
  @ApiProperty({ format: 'uuid' }) customerId!: string;
  @ApiProperty({ type: 'integer', minimum: 1 }) orderCount!: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) totalCents!: number;
  @ApiProperty({ format: 'date-time' }) recalculatedAt!: string;
}

export class CustomerTotalsPage {
  @ApiProperty({ type: [CustomerTotalsView] }) items!: CustomerTotalsView[];
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) next!: string | null;
}

/** What enqueueing a background job answers. */
export class JobAcceptedView {
  @ApiProperty() jobId!: string;
  @ApiProperty({ description: 'True when a job with the same id was already waiting.' }) duplicate!: boolean;
}

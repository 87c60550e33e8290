import { IsOmittable } from '@bulkhead/openapi';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { PageQuery } from '@bulkhead/domain-kit';
import { Order, ORDER_STATUSES, OrderStatus } from './order.entity';

const MAX_TOTAL_CENTS = 1_000_000_000_000;

export class CreateOrderDto {
  @ApiProperty({ description: 'A customer of the same tenant.' })
  @IsUUID()
  customerId!: string;

  @ApiPropertyOptional({ enum: ORDER_STATUSES, default: 'pending' })
  @IsOptional()
  @IsIn(ORDER_STATUSES)
  status?: OrderStatus;

  @ApiProperty({ example: 4999, minimum: 0, maximum: MAX_TOTAL_CENTS })
  @IsInt()
  @Min(0)
  @Max(MAX_TOTAL_CENTS)
  totalCents!: number;

  @ApiProperty({ example: 'EUR' })
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code such as EUR' })
  currency!: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  note?: string;
}

export class UpdateOrderDto {
  @ApiPropertyOptional({ enum: ORDER_STATUSES })
  @IsOmittable()
  @IsIn(ORDER_STATUSES)
  status?: OrderStatus;

  @ApiPropertyOptional({ minimum: 0, maximum: MAX_TOTAL_CENTS })
  @IsOmittable()
  @IsInt()
  @Min(0)
  @Max(MAX_TOTAL_CENTS)
  totalCents?: number;

  @ApiPropertyOptional({ maxLength: 2000, description: 'null clears the note.' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  note?: string;
}

export class ListOrdersQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Only orders of this customer.' })
  @IsOptional()
  @IsUUID()
  customerId?: string;
}

export class OrderView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) customerId!: string;
  @ApiProperty({ enum: ORDER_STATUSES }) status!: OrderStatus;
  @ApiProperty({ type: 'integer', minimum: 0, example: 4999 }) totalCents!: number;
  @ApiProperty({ pattern: '^[A-Z]{3}$', example: 'EUR' }) currency!: string;
  @ApiProperty({ nullable: true, type: String }) note!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;

  static of(order: Order): OrderView {
    return {
      id: order.id,
      customerId: order.customerId,
      status: order.status,
      totalCents: Number(order.totalCents),
      currency: order.currency,
      note: order.note ?? null,
      createdAt: new Date(order.createdAt).toISOString(),
      updatedAt: new Date(order.updatedAt).toISOString(),
    };
  }
}

export class OrderPage {
  @ApiProperty({ type: [OrderView] }) items!: OrderView[];
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) next!: string | null;
}

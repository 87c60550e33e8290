import { ApiProperty } from '@nestjs/swagger';
import { ExportStatus, OrderExport } from './order-export.entity';

export class OrderExportView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['pending', 'completed', 'failed'] }) status!: ExportStatus;
  @ApiProperty({ nullable: true, type: 'integer', minimum: 0 }) rowCount!: number | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) completedAt!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Where to fetch the CSV once completed.' }) download!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Why the export failed, when its status is failed.' }) failureReason!: string | null;

  static of(row: OrderExport): OrderExportView {
    return {
      id: row.id,
      status: row.status,
      rowCount: row.rowCount ?? null,
      createdAt: new Date(row.createdAt).toISOString(),
      completedAt: row.completedAt ? new Date(row.completedAt).toISOString() : null,
      download: row.status === 'completed' ? `/v1/exports/${row.id}/content` : null,
      failureReason: row.status === 'failed' ? (row.failureReason ?? null) : null,
    };
  }
}

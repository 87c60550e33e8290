import { TenantOwnedEntity } from '@bulkhead/tenancy';
import { Column, Entity } from 'typeorm';

export type ExportStatus = 'pending' | 'completed' | 'failed';

/** An export's status; its CSV is a separate entity on the same table, so polling never loads it. */
@Entity('order_exports')
export class OrderExport extends TenantOwnedEntity {
  @Column('text') status!: ExportStatus;
  @Column('text', { name: 'requested_by' }) requestedBy!: string;
  @Column('integer', { name: 'row_count', nullable: true }) rowCount!: number | null;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt!: Date;
  @Column('timestamptz', { name: 'completed_at', nullable: true }) completedAt!: Date | null;
  @Column('text', { name: 'failure_reason', nullable: true }) failureReason!: string | null;
}

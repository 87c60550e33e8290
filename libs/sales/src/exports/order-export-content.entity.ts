import { TenantOwnedEntity } from '@bulkhead/tenancy';
import { Column, Entity } from 'typeorm';

/** The CSV of an export: the `content` column of `order_exports`, read only when downloaded. */
@Entity('order_exports', { synchronize: false })
export class OrderExportContent extends TenantOwnedEntity {
  @Column('text', { nullable: true }) content!: string | null;
}

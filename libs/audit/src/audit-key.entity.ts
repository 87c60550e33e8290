import { TenantOwnedEntity } from '@bulkhead/tenancy';
import { Column, Entity } from 'typeorm';

/** The tenant's data key for the personal data in its entries, wrapped with the master key; NULL once shredded. */
@Entity('audit_keys')
export class AuditKeyRow extends TenantOwnedEntity {
  @Column('bytea', { nullable: true }) wrapped!: Buffer | null;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt!: Date;
  @Column('timestamptz', { name: 'shredded_at', nullable: true }) shreddedAt!: Date | null;
}

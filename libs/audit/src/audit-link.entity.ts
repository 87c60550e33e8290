import { TenantOwnedEntity } from '@bulkhead/tenancy';
import { Column, Entity } from 'typeorm';

/** An entry's place in its tenant's chain (`id` is the entry's id), for reading: written only by `audit_chain_pending`. */
@Entity('audit_links')
export class AuditLinkRow extends TenantOwnedEntity {
  @Column('bigint') seq!: string;
  @Column('bytea', { name: 'prev_hash' }) prevHash!: Buffer;
  @Column('bytea') hash!: Buffer;
}

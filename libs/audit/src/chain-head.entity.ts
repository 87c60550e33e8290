import { TenantOwnedEntity } from '@bulkhead/tenancy';
import { Column, Entity } from 'typeorm';

/** A tenant's chain head (one row per tenant), read for checkpoints; written only by `audit_chain_pending`. */
@Entity('audit_chain_heads')
export class ChainHeadRow extends TenantOwnedEntity {
  @Column('bigint') seq!: string;
  @Column('bytea') hash!: Buffer;
}

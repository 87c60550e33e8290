import { TenantOwnedEntity } from '@bulkhead/tenancy';
import { Column, Entity } from 'typeorm';

/**
 * An audit entry, for reading: entries are only ever written by `AuditTrail` (in a COMMIT message)
 * and never rewritten; their place in the chain is an `AuditLinkRow` of the same id.
 */
@Entity('audit_entries')
export class AuditEntryRow extends TenantOwnedEntity {
  @Column('timestamptz', { name: 'occurred_at' }) occurredAt!: Date;
  @Column('text') action!: string;
  @Column('text') outcome!: string;
  @Column('text', { name: 'actor_kind' }) actorKind!: string;
  @Column('text', { name: 'request_id', nullable: true }) requestId!: string | null;
  @Column('text') entry!: string;
  @Column('bytea', { nullable: true }) pii!: Buffer | null;
}

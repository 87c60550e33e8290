import { TenantOwnedEntity } from '@bulkhead/tenancy';
import { Column, Entity } from 'typeorm';

/** A chained audit entry, for reading: entries are only ever written by `AuditTrail` (in a COMMIT message). */
@Entity('audit_entries')
export class AuditEntryRow extends TenantOwnedEntity {
  /** Null while pending (see the migration's audit_chain_pending). */
  @Column('bigint', { nullable: true }) seq!: string | null;
  @Column('timestamptz', { name: 'occurred_at' }) occurredAt!: Date;
  @Column('text') action!: string;
  @Column('text') outcome!: string;
  @Column('text', { name: 'actor_kind' }) actorKind!: string;
  @Column('text', { name: 'request_id', nullable: true }) requestId!: string | null;
  @Column('text') entry!: string;
  @Column('bytea', { nullable: true }) pii!: Buffer | null;
  @Column('bytea', { name: 'prev_hash', nullable: true }) prevHash!: Buffer | null;
  @Column('bytea', { nullable: true }) hash!: Buffer | null;
}

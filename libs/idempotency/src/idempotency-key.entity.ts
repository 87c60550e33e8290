import { TenantOwnedEntity } from '@bulkhead/tenancy';
import { Column, Entity } from 'typeorm';

/** A POST's stored response, replayed to a retry with the same key and the same request. */
@Entity('idempotency_keys')
export class IdempotencyRecord extends TenantOwnedEntity {
  @Column('text') key!: string;
  /** sha256 (hex) of the method, the path with its query and the canonical JSON body. */
  @Column('text') fingerprint!: string;
  @Column('text') method!: string;
  @Column('text') path!: string;
  @Column('integer') status!: number;
  @Column('jsonb') headers!: Record<string, string>;
  /** The JSON text the client received (a replay sends the same bytes); null for no body. */
  @Column('text', { nullable: true }) body!: string | null;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt!: Date;
  @Column('timestamptz', { name: 'expires_at' }) expiresAt!: Date;
}

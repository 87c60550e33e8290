import { TenantOwnedEntity } from '@bulkhead/tenancy';
import { Column, Entity } from 'typeorm';

/** Per-customer order totals; `id` is the customer's id. */
@Entity('customer_order_totals')
export class CustomerTotals extends TenantOwnedEntity {
  @Column('integer', { name: 'order_count' }) orderCount!: number;
  @Column('bigint', { name: 'total_cents', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } }) totalCents!: number;
  @Column('timestamptz', { name: 'recalculated_at', default: () => 'now()' }) recalculatedAt!: Date;
}

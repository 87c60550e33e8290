import { MeterProvider, MeterSource, UsagePeriod, defineMeter } from '@bulkhead/metering';
import { TenantData } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { Between } from 'typeorm';
import { OrderExport } from './exports/order-export.entity';
import { Order } from './orders/order.entity';

/** One per order created; recorded in the order's own transaction, keyed by the order id. */
export const ORDERS_CREATED = defineMeter({ name: 'orders.created', aggregation: 'count', unit: 'orders', origin: 'recorded', description: 'Orders created' });
/** One per export requested; recorded with the export's row, keyed by the export id. */
export const EXPORTS_REQUESTED = defineMeter({ name: 'exports.requested', aggregation: 'count', unit: 'exports', origin: 'recorded', description: 'Order exports requested' });

/** The sales meters, and their source of truth for reconciliation: the tenant's own rows. */
@Injectable()
@MeterProvider()
export class SalesMeters implements MeterSource {
  readonly meters = [ORDERS_CREATED, EXPORTS_REQUESTED];

  constructor(private readonly data: TenantData) {}

  async sourceTotal(meter: string, period: UsagePeriod): Promise<number | undefined> {
    // Between is inclusive; the period's end is exclusive, so stop a millisecond short of it.
    const within = Between(period.from, new Date(period.to.getTime() - 1));
    if (meter === ORDERS_CREATED.name) return this.data.transaction((tx) => tx.repository(Order).count({ createdAt: within }), { readOnly: true });
    if (meter === EXPORTS_REQUESTED.name) return this.data.transaction((tx) => tx.repository(OrderExport).count({ createdAt: within }), { readOnly: true });
    return undefined;
  }
}

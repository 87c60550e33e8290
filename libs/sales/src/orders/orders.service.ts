import { UsageRecorder } from '@bulkhead/metering';
import { isForeignKeyViolation, TenantData } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { definedOnly } from '@bulkhead/domain-kit';
import { OrderNotFoundProblem, UnknownCustomerReferenceProblem } from '../sales.errors';
import { CreateOrderDto, ListOrdersQuery, UpdateOrderDto } from './order.dto';
import { Order } from './order.entity';
import { ORDERS_CREATED } from '../sales.meters';

@Injectable()
export class OrdersService {
  constructor(
    private readonly data: TenantData,
    private readonly usage: UsageRecorder,
  ) {}

  /**
   * No lookup of the customer first: the foreign key is `(tenant_id, customer_id)`, so a
   * customer of another tenant, a random id and one deleted concurrently all fail it the same
   * way, and the write takes one round trip fewer (start, insert, commit). The order's usage
   * event is recorded in the same transaction, keyed by the order id; past the plan's quota the
   * whole create rolls back (429).
   */
  async create(input: CreateOrderDto): Promise<Order> {
    try {
      return await this.data.transaction(async (tx) => {
        const order = await tx.repository(Order).insert({
          customerId: input.customerId,
          status: input.status ?? 'pending',
          totalCents: input.totalCents,
          currency: input.currency,
          note: input.note ?? null,
        });
        await this.usage.record(tx, ORDERS_CREATED.name, { key: `${ORDERS_CREATED.name}:${order.id}`, at: order.createdAt, subject: order.id });
        return order;
      });
    } catch (error) {
      if (isForeignKeyViolation(error, 'orders_customer_fkey')) throw new UnknownCustomerReferenceProblem();
      throw error;
    }
  }

  async get(id: string): Promise<Order> {
    const found = await this.data.read(Order).findById(id);
    if (!found) throw new OrderNotFoundProblem();
    return found;
  }

  list(query: ListOrdersQuery & { limit: number }): Promise<Order[]> {
    return this.data.read(Order).findPage({
      where: query.customerId ? { customerId: query.customerId } : {},
      after: query.after,
      limit: query.limit,
    });
  }

  async update(id: string, patch: UpdateOrderDto): Promise<Order> {
    const updated = await this.data.transaction((tx) => tx.repository(Order).update(id, { ...definedOnly(patch), updatedAt: () => 'now()' }));
    if (!updated) throw new OrderNotFoundProblem();
    return updated;
  }

  async remove(id: string): Promise<void> {
    const deleted = await this.data.transaction((tx) => tx.repository(Order).delete(id));
    if (!deleted) throw new OrderNotFoundProblem();
  }
}

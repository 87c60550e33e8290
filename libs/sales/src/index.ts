export { SalesModule, SALES_ENTITIES } from './sales.module';
export { Customer } from './customers/customer.entity';
export { Order, ORDER_STATUSES, type OrderStatus } from './orders/order.entity';
export { CustomersService } from './customers/customers.service';
export { OrdersService } from './orders/orders.service';
export { CreateCustomerDto } from './customers/customer.dto';
export { CreateOrderDto } from './orders/order.dto';
export * from './sales.errors';

import { Module } from '@nestjs/common';
import { CustomersController } from './customers/customers.controller';
import { Customer } from './customers/customer.entity';
import { CustomersService } from './customers/customers.service';
import { OrdersController } from './orders/orders.controller';
import { Order } from './orders/order.entity';
import { OrdersService } from './orders/orders.service';

/** Entities the app hands to TenancyModule.forRoot. */
export const SALES_ENTITIES = [Customer, Order];

@Module({
  controllers: [CustomersController, OrdersController],
  providers: [CustomersService, OrdersService],
  exports: [CustomersService, OrdersService],
})
export class SalesModule {}

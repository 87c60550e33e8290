import { QUOTA_EXCEEDED_EXAMPLE } from '@bulkhead/metering';
import { ApiProblem } from '@bulkhead/openapi';
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { pageOf, ParseIdPipe } from '@bulkhead/domain-kit';
import { OrderNotFoundProblem, UnknownCustomerReferenceProblem } from '../sales.errors';
import { CreateOrderDto, ListOrdersQuery, OrderPage, OrderView, UpdateOrderDto } from './order.dto';
import { OrdersService } from './orders.service';

@ApiTags('orders')
@ApiBearerAuth()
@Controller('v1/orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @ApiOperation({ summary: 'Create an order for a customer of the same tenant' })
  @ApiCreatedResponse({ type: OrderView })
  @ApiProblem(UnknownCustomerReferenceProblem)
  @ApiProblem(QUOTA_EXCEEDED_EXAMPLE)
  async create(@Body() body: CreateOrderDto): Promise<OrderView> {
    return OrderView.of(await this.orders.create(body));
  }

  @Get()
  @ApiOperation({ summary: 'List orders in creation order, optionally of one customer (cursor pagination)' })
  @ApiOkResponse({ type: OrderPage })
  async list(@Query() query: ListOrdersQuery): Promise<OrderPage> {
    const limit = query.limit ?? 20;
    return pageOf(await this.orders.list({ ...query, limit }), limit, OrderView.of);
  }

  @Get(':id')
  @ApiOkResponse({ type: OrderView })
  @ApiProblem(OrderNotFoundProblem)
  async get(@Param('id', new ParseIdPipe()) id: string): Promise<OrderView> {
    return OrderView.of(await this.orders.get(id));
  }

  @Patch(':id')
  @ApiOkResponse({ type: OrderView })
  @ApiProblem(OrderNotFoundProblem)
  async update(@Param('id', new ParseIdPipe()) id: string, @Body() body: UpdateOrderDto): Promise<OrderView> {
    return OrderView.of(await this.orders.update(id, body));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiProblem(OrderNotFoundProblem)
  async remove(@Param('id', new ParseIdPipe()) id: string): Promise<void> {
    await this.orders.remove(id);
  }
}

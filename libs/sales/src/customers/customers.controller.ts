import { ApiProblem } from '@bulkhead/openapi';
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { pageOf, PageQuery, ParseIdPipe } from '@bulkhead/domain-kit';
import { CustomerHasOrdersProblem, CustomerNotFoundProblem, EmailTakenProblem } from '../sales.errors';
import { CreateCustomerDto, CustomerPage, CustomerView, UpdateCustomerDto } from './customer.dto';
import { CustomersService } from './customers.service';

@ApiTags('customers')
@ApiBearerAuth()
@Controller('v1/customers')
export class CustomersController {
  constructor(private readonly customers: CustomersService) {}

  @Post()
  @ApiOperation({ summary: 'Create a customer (email unique within the tenant)' })
  @ApiCreatedResponse({ type: CustomerView })
  @ApiProblem(EmailTakenProblem)
  async create(@Body() body: CreateCustomerDto): Promise<CustomerView> {
    return CustomerView.of(await this.customers.create(body));
  }

  @Get()
  @ApiOperation({ summary: 'List customers in creation order (cursor pagination)' })
  @ApiOkResponse({ type: CustomerPage })
  async list(@Query() query: PageQuery): Promise<CustomerPage> {
    const limit = query.limit ?? 20;
    return pageOf(await this.customers.list({ ...query, limit }), limit, CustomerView.of);
  }

  @Get(':id')
  @ApiOkResponse({ type: CustomerView })
  @ApiProblem(CustomerNotFoundProblem)
  async get(@Param('id', new ParseIdPipe()) id: string): Promise<CustomerView> {
    return CustomerView.of(await this.customers.get(id));
  }

  @Patch(':id')
  @ApiOkResponse({ type: CustomerView })
  @ApiProblem(CustomerNotFoundProblem)
  @ApiProblem(EmailTakenProblem)
  async update(@Param('id', new ParseIdPipe()) id: string, @Body() body: UpdateCustomerDto): Promise<CustomerView> {
    return CustomerView.of(await this.customers.update(id, body));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiProblem(CustomerNotFoundProblem)
  @ApiProblem(CustomerHasOrdersProblem)
  async remove(@Param('id', new ParseIdPipe()) id: string): Promise<void> {
    await this.customers.remove(id);
  }
}

import { isForeignKeyViolation, isUniqueViolation, TenantData } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { definedOnly, PageQuery } from '@bulkhead/domain-kit';
import { CustomerHasOrdersProblem, CustomerNotFoundProblem, EmailTakenProblem } from '../sales.errors';
import { CreateCustomerDto, UpdateCustomerDto } from './customer.dto';
import { Customer } from './customer.entity';

@Injectable()
export class CustomersService {
  constructor(private readonly data: TenantData) {}

  async create(input: CreateCustomerDto): Promise<Customer> {
    try {
      return await this.data.transaction((tx) => tx.repository(Customer).insert({ email: input.email, name: input.name }));
    } catch (error) {
      if (isUniqueViolation(error, 'customers_tenant_email_key')) throw new EmailTakenProblem();
      throw error;
    }
  }

  async get(id: string): Promise<Customer> {
    const found = await this.data.read(Customer).findById(id);
    if (!found) throw new CustomerNotFoundProblem();
    return found;
  }

  list(query: PageQuery & { limit: number }): Promise<Customer[]> {
    return this.data.read(Customer).findPage({ after: query.after, limit: query.limit });
  }

  async update(id: string, patch: UpdateCustomerDto): Promise<Customer> {
    try {
      const updated = await this.data.transaction((tx) =>
        tx.repository(Customer).update(id, { ...definedOnly(patch), updatedAt: () => 'now()' }),
      );
      if (!updated) throw new CustomerNotFoundProblem();
      return updated;
    } catch (error) {
      if (isUniqueViolation(error, 'customers_tenant_email_key')) throw new EmailTakenProblem();
      throw error;
    }
  }

  async remove(id: string): Promise<void> {
    try {
      const deleted = await this.data.transaction((tx) => tx.repository(Customer).delete(id));
      if (!deleted) throw new CustomerNotFoundProblem();
    } catch (error) {
      if (isForeignKeyViolation(error, 'orders_customer_fkey')) throw new CustomerHasOrdersProblem();
      throw error;
    }
  }
}

import { Order } from '@bulkhead/sales';
import { RequestTenant, TenantData } from '@bulkhead/tenancy';
import { Controller, Get, Inject, Injectable, NotFoundException, Param, Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';

/** The tenant as the design card first sketched it: a plain Scope.REQUEST provider. */
@Injectable({ scope: Scope.REQUEST })
export class RequestScopedTenant {
  constructor(@Inject(REQUEST) private readonly request: { user?: { tenantId?: string } }) {}

  // Read on use: Nest builds request-scoped instances before the guards authenticate the request.
  get tenantId(): string {
    return this.request.user?.tenantId ?? '';
  }
}

/** Depends on the Scope.REQUEST provider: Nest rebuilds it, and this controller, on every request. */
@Injectable()
export class RequestScopedOrders {
  constructor(
    private readonly tenant: RequestScopedTenant,
    private readonly data: TenantData,
  ) {}

  get(id: string) {
    if (!this.tenant.tenantId) throw new NotFoundException();
    return this.data.read(Order).findById(id);
  }
}

@Controller('bench/request-scoped')
export class RequestScopedController {
  constructor(private readonly orders: RequestScopedOrders) {}

  @Get('orders/:id')
  get(@Param('id') id: string) {
    return this.orders.get(id);
  }
}

/** The same shape with Bulkhead's RequestTenant: a singleton reading AsyncLocalStorage. */
@Injectable()
export class ContextTenantOrders {
  constructor(
    private readonly tenant: RequestTenant,
    private readonly data: TenantData,
  ) {}

  get(id: string) {
    if (!this.tenant.tenantId) throw new NotFoundException();
    return this.data.read(Order).findById(id);
  }
}

@Controller('bench/context-tenant')
export class ContextTenantController {
  constructor(private readonly orders: ContextTenantOrders) {}

  @Get('orders/:id')
  get(@Param('id') id: string) {
    return this.orders.get(id);
  }
}

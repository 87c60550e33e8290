import { SetMetadata } from '@nestjs/common';

export const OPERATOR_ROUTE = 'bulkhead:operator';

/** A platform route: needs an operator token (the operator scope and no tenant), never a tenant one. */
export const OperatorOnly = (): MethodDecorator & ClassDecorator => SetMetadata(OPERATOR_ROUTE, true);

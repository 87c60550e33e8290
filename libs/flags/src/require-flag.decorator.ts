import { ApiProblem } from '@bulkhead/openapi';
import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { FeatureDisabledProblem } from './flags.errors';
import { FlagGuard } from './flag.guard';

import { REQUIRED_FLAG } from './required-flag.key';

/**
 * The route (or every route of a controller) answers only for tenants with the boolean flag on;
 * others get 403 `feature_disabled`. A route guard, not a global one: routes without it pay nothing.
 */
export const RequireFlag = (key: string): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(REQUIRED_FLAG, key), UseGuards(FlagGuard), ApiProblem(FeatureDisabledProblem));

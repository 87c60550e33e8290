import { attachInterceptor } from '@bulkhead/domain-kit';
import { Module, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { IdempotencyStore } from './idempotency-store';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { OWN_IDEMPOTENCY } from './own-idempotency.decorator';

/**
 * Every POST of the application honours `Idempotency-Key` (inert in the worker and the CLI,
 * which route nothing). The interceptor is attached to each POST handler, not registered
 * globally: reads never pay for a header only POSTs take.
 */
@Module({
  providers: [IdempotencyStore, IdempotencyInterceptor],
  exports: [IdempotencyStore],
})
export class IdempotencyModule {
  constructor(modules: ModulesContainer, interceptor: IdempotencyInterceptor) {
    attachInterceptor(
      modules,
      interceptor,
      (handler) => Reflect.getMetadata(METHOD_METADATA, handler) === RequestMethod.POST && !Reflect.getMetadata(OWN_IDEMPOTENCY, handler),
    );
  }
}

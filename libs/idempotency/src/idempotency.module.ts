import { Module, NestInterceptor, RequestMethod } from '@nestjs/common';
import { INTERCEPTORS_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { IdempotencyStore } from './idempotency-store';
import { IdempotencyInterceptor } from './idempotency.interceptor';

/**
 * Every POST of the application honours `Idempotency-Key` (inert in the worker and the CLI,
 * which route nothing). The interceptor is attached to each POST handler rather than registered
 * globally: a global interceptor puts Nest's rxjs pipeline on every route, reads included, for
 * a header only POSTs take. It is attached while the application's instances are created, after
 * every controller is known and before any route is registered, so no POST can miss it.
 */
@Module({
  providers: [IdempotencyStore, IdempotencyInterceptor],
  exports: [IdempotencyStore],
})
export class IdempotencyModule {
  constructor(modules: ModulesContainer, interceptor: IdempotencyInterceptor) {
    for (const module of modules.values()) {
      for (const wrapper of module.controllers.values()) {
        const prototype = (wrapper.metatype as { prototype?: object } | null)?.prototype;
        if (prototype) attachToPosts(prototype, interceptor);
      }
    }
  }
}

function attachToPosts(prototype: object, interceptor: NestInterceptor): void {
  for (let proto: object | null = prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const handler = Object.getOwnPropertyDescriptor(proto, name)?.value as object | undefined;
      if (typeof handler !== 'function' || Reflect.getMetadata(METHOD_METADATA, handler) !== RequestMethod.POST) continue;
      // Metadata lives on the class, and one process may build the application more than once
      // (tests do): each build's own interceptor replaces the previous build's, which that
      // build's routes already hold.
      const others = ((Reflect.getMetadata(INTERCEPTORS_METADATA, handler) ?? []) as unknown[]).filter((item) => !(item instanceof IdempotencyInterceptor));
      Reflect.defineMetadata(INTERCEPTORS_METADATA, [interceptor, ...others], handler);
    }
  }
}

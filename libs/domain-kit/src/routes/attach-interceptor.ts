import { NestInterceptor } from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';

/**
 * Attaches `interceptor` to every route handler of the application for which `applies` holds,
 * instead of registering it globally: a global interceptor puts Nest's rxjs pipeline on every
 * route, for behaviour only some routes have. Call it from a platform feature's module
 * constructor: instances are created after every controller is known and before any route is
 * registered, so no matching route misses it. Metadata lives on the class and one process may
 * build the application more than once (tests do): each build's interceptor replaces the
 * previous build's instance of the same class, which that build's routes already hold.
 */
export function attachInterceptor(modules: ModulesContainer, interceptor: NestInterceptor, applies: (handler: Function, controller: Function) => boolean): void {
  const kind = interceptor.constructor;
  for (const module of modules.values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Function | null;
      if (!controller?.prototype) continue;
      for (let proto: object | null = controller.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
        for (const name of Object.getOwnPropertyNames(proto)) {
          const handler = Object.getOwnPropertyDescriptor(proto, name)?.value as Function | undefined;
          if (typeof handler !== 'function' || name === 'constructor' || !applies(handler, controller)) continue;
          const others = ((Reflect.getMetadata(INTERCEPTORS_METADATA, handler) ?? []) as unknown[]).filter((item) => !(item instanceof kind));
          Reflect.defineMetadata(INTERCEPTORS_METADATA, [interceptor, ...others], handler);
        }
      }
    }
  }
}

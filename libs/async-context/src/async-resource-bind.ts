import { AsyncResource } from 'node:async_hooks';

type Bind = (fn: (...args: never[]) => unknown, thisArg?: unknown) => (...args: unknown[]) => unknown;

/**
 * Makes `AsyncResource.bind` (static and on instances) cost what it should on Node versions whose
 * bound function still carries the deprecated `asyncResource` property (DEP0172).
 *
 * Why: Node 20 defines that property as two accessors each wrapped by `util.deprecate`, and
 * `deprecate` rebuilds a function and its prototype chain on every call: one bind took 7.3 us
 * here, against 0.4 us without the property (nodejs/node#58218; Node 24 stopped it, main removed
 * the property). NestJS binds once per interceptor and once more per request
 * (`InterceptorsConsumer`), Fastify once per request body (`ContentTypeParser.run`): two or three
 * binds, 15-22 us of every request's CPU for a property nothing reads.
 *
 * The replacement does what Node's does minus that property: a new AsyncResource per static bind
 * (the same init and destroy events for async_hooks and APM tools), the function run in the
 * resource's scope with the receiver it was called with (or `thisArg`), its `name` and `length`
 * as Node gives them, and anything that is not a function handed to Node's own bind to refuse.
 * Nothing in this process reads `asyncResource` off a bound function (`grep` of node_modules,
 * 2026-11-27).
 *
 * Installed once per process by the API's `createHttpApp`; a no-op where Node no longer attaches
 * the property, so it retires itself with the Node upgrade.
 */
export function installFastAsyncResourceBind(): void {
  if (!Object.getOwnPropertyDescriptor(AsyncResource.bind(noop), 'asyncResource')) return;
  const nativeBind = AsyncResource.prototype.bind as unknown as Bind;
  const nativeStaticBind = AsyncResource.bind as unknown as (fn: unknown, type?: string, thisArg?: unknown) => unknown;
  AsyncResource.prototype.bind = function bind(this: AsyncResource, fn: (...args: never[]) => unknown, thisArg?: unknown) {
    if (typeof fn !== 'function') return nativeBind.call(this, fn, thisArg);
    const resource = this;
    const bound =
      thisArg === undefined
        ? function bound(this: unknown, ...args: unknown[]) {
            return resource.runInAsyncScope(fn as (...a: unknown[]) => unknown, this, ...args);
          }
        : resource.runInAsyncScope.bind(resource, fn as (...a: unknown[]) => unknown, thisArg);
    Object.defineProperty(bound, 'length', { __proto__: null, configurable: true, enumerable: false, value: fn.length, writable: false } as PropertyDescriptor);
    return bound;
  } as typeof AsyncResource.prototype.bind;
  AsyncResource.bind = function bind(fn: (...args: never[]) => unknown, type?: string, thisArg?: unknown) {
    if (typeof fn !== 'function') return nativeStaticBind.call(AsyncResource, fn, type, thisArg);
    return (new AsyncResource(type || fn.name || 'bound-anonymous-fn') as unknown as { bind: Bind }).bind(fn, thisArg);
  } as typeof AsyncResource.bind;
}

function noop(): void {}

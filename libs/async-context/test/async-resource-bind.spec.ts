import { installFastAsyncResourceBind } from '@bulkhead/async-context';
import { AsyncLocalStorage, AsyncResource, createHook } from 'node:async_hooks';

describe('AsyncResource.bind without the deprecated asyncResource property', () => {
  const storage = new AsyncLocalStorage<string>();

  beforeAll(() => installFastAsyncResourceBind());

  it('is replaced, and installing it again changes nothing', () => {
    const installed = { static: AsyncResource.bind, proto: AsyncResource.prototype.bind };
    installFastAsyncResourceBind();
    expect(AsyncResource.bind).toBe(installed.static);
    expect(AsyncResource.prototype.bind).toBe(installed.proto);
    expect(Object.getOwnPropertyDescriptor(AsyncResource.bind(() => 1), 'asyncResource')).toBeUndefined();
  });

  it('runs the function in the context it was bound in, not the one it is called from', async () => {
    const bound = storage.run('bound here', () => AsyncResource.bind(() => storage.getStore()));
    const called = await storage.run('called here', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return bound();
    });
    expect(called).toBe('bound here');
    const onInstance = storage.run('instance', () => new AsyncResource('probe').bind(() => storage.getStore()));
    expect(storage.run('elsewhere', () => onInstance())).toBe('instance');
  });

  it('keeps arguments, return value, receiver, thisArg, name and length as Node does', () => {
    function receiver(this: unknown, a: number, b: number): unknown {
      return { self: this, sum: a + b };
    }
    const target = { name: 'target' };
    // Node's own answers (v20), written out: another test file in this jest worker may have
    // installed the replacement before this file captured anything.
    const mine = AsyncResource.bind(receiver);
    expect(mine.call(target, 1, 2)).toEqual({ self: target, sum: 3 });
    expect(mine.name).toBe('bound');
    expect(AsyncResource.bind(receiver, 'typed', target)(2, 3)).toEqual({ self: target, sum: 5 });
    const instanceBind = new AsyncResource('probe') as unknown as { bind: (fn: typeof receiver, thisArg: unknown) => (a: number, b: number) => unknown };
    expect(instanceBind.bind(receiver, target)(4, 5)).toEqual({ self: target, sum: 9 });
    expect(mine.length).toBe(2);
    expect(AsyncResource.bind(receiver, undefined, target).length).toBe(2);
  });

  it('creates one AsyncResource per static bind, typed as Node types it, for async_hooks and APM tools', () => {
    const types: string[] = [];
    const hook = createHook({ init: (_id, type) => types.push(type) }).enable();
    try {
      AsyncResource.bind(function named() {});
      AsyncResource.bind(() => undefined, 'given-type');
      AsyncResource.bind((() => () => undefined)());
    } finally {
      hook.disable();
    }
    expect(types).toEqual(['named', 'given-type', 'bound-anonymous-fn']);
  });

  it("refuses what is not a function with Node's own error", () => {
    const attempt = (bind: () => unknown) => {
      try {
        bind();
        return undefined;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code;
      }
    };
    expect(attempt(() => AsyncResource.bind('nope' as never))).toBe('ERR_INVALID_ARG_TYPE');
    expect(attempt(() => new AsyncResource('probe').bind(42 as never))).toBe('ERR_INVALID_ARG_TYPE');
  });
});

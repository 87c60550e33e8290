import { currentTraceContext, enterTraceContext, runInTraceContext } from '@bulkhead/async-context';
import { Context, ROOT_CONTEXT } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

/**
 * OpenTelemetry's active context kept in the process's one AsyncLocalStorage, beside the unit of
 * work (`@bulkhead/async-context`), instead of the SDK's default manager's storage of its own:
 * once enabled (by the first traced request) Node 20 copies that storage into every promise of
 * every request, traced or not. It extends the default manager for its binding of functions and
 * event emitters, and replaces everything that touches a storage; the parent's own storage is
 * never entered, so never enabled.
 */
export class FrameContextManager extends AsyncLocalStorageContextManager {
  override active(): Context {
    return (currentTraceContext() as Context | undefined) ?? ROOT_CONTEXT;
  }

  override with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return runInTraceContext(context, () => fn.apply(thisArg, args));
  }

  override attach(context: Context): { dispose(): void } {
    const restore = enterTraceContext(context);
    let disposed = false;
    return {
      dispose: () => {
        if (disposed) return;
        disposed = true;
        restore();
      },
    };
  }

  override enable(): this {
    return this;
  }

  override disable(): this {
    return this;
  }
}

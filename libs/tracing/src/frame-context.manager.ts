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
  /** Set by `disable()` (the contexts entered before it read as none, as the SDK's manager's do) until the next `with` or `enable`. */
  private disabled = false;

  override active(): Context {
    return this.disabled ? ROOT_CONTEXT : ((currentTraceContext() as Context | undefined) ?? ROOT_CONTEXT);
  }

  override with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    this.disabled = false;
    return runInTraceContext(context, () => fn.apply(thisArg, args));
  }

  override attach(context: Context): { dispose(): void } {
    this.disabled = false;
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
    this.disabled = false;
    return this;
  }

  override disable(): this {
    this.disabled = true;
    return this;
  }
}

import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What the process's one AsyncLocalStorage holds: the unit of work (a request or a job, the
 * tenancy lib's) and the trace context (OpenTelemetry's, when tracing is on), each carried over
 * when the other changes.
 *
 * One storage for both, not one each: Node 20 copies every enabled AsyncLocalStorage's store into
 * every promise it creates, and a request creates hundreds. OpenTelemetry's own context manager
 * (a second storage, enabled by the first traced request) cost the scoped GET 3-6% of its CPU per
 * request on every request, traced or not, measured side by side in two API processes.
 */
interface AsyncFrame {
  readonly unit: object | undefined;
  readonly trace: unknown;
}

const storage = new AsyncLocalStorage<AsyncFrame>();

/** The current unit of work, as its owner stored it; undefined outside any. */
export function currentUnit<U extends object>(): U | undefined {
  return storage.getStore()?.unit as U | undefined;
}

/** Runs `work` in `unit`, keeping the current trace context. */
export function runInUnit<T>(unit: object, work: () => T): T {
  return storage.run({ unit, trace: storage.getStore()?.trace }, work);
}

/** The current trace context, as the tracer stored it; undefined when none was entered. */
export function currentTraceContext(): unknown {
  return storage.getStore()?.trace;
}

/** Runs `work` with `trace` as the trace context, keeping the current unit of work. */
export function runInTraceContext<T>(trace: unknown, work: () => T): T {
  return storage.run({ unit: storage.getStore()?.unit, trace }, work);
}

/**
 * Makes `trace` the trace context of the rest of the current async chain, keeping the unit of
 * work (OpenTelemetry's experimental `attach`); returns what puts the previous trace context back.
 * Only the trace context: undone in another unit's chain, it must not bring this unit with it.
 */
export function enterTraceContext(trace: unknown): () => void {
  const previous = storage.getStore()?.trace;
  storage.enterWith({ unit: storage.getStore()?.unit, trace });
  return () => storage.enterWith({ unit: storage.getStore()?.unit, trace: previous });
}

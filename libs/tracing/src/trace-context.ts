import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

/** W3C trace context of the active span, to carry in a job or an outbound call (empty when not tracing). */
export function currentTraceCarrier(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** Adds the active trace context (`traceparent`, `tracestate`) to outbound headers. */
export function injectTraceHeaders(headers: Record<string, string>): void {
  propagation.inject(context.active(), headers);
}

/** The log fields of the active span: `traceId`, `spanId` (none when there is no valid span). */
export function traceLogFields(): { traceId: string; spanId: string } | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return traceId === '00000000000000000000000000000000' ? undefined : { traceId, spanId };
}

const tracer = () => trace.getTracer('bulkhead');

/**
 * Runs `work` in a span continuing the trace carried in `carrier` (a job's envelope): the job's
 * spans join the request that enqueued it. With no carrier it starts a trace of its own.
 */
export function runInContinuedSpan<T>(name: string, carrier: Record<string, string> | undefined, work: () => Promise<T>): Promise<T> {
  const parent = carrier ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
  return tracer().startActiveSpan(name, { kind: SpanKind.CONSUMER }, parent, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

import { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import type { tracing } from '@opentelemetry/sdk-node';
import type { IncomingMessage } from 'node:http';

/** The SDK's SamplingDecision, by value: the SDK is loaded only when tracing is on. */
const RECORD_AND_SAMPLED = 2;

/**
 * A request without a caller's trace context is chosen (or not) before any instrumentation sees
 * it: unchosen, the HTTP instrumentation leaves it alone, so no span exists and the pg and ioredis
 * instrumentations (`requireParentSpan`) skip its queries too. Measured: instrumenting every request
 * and dropping 90% of them at the sampler cost a third of the scoped GET's throughput, most of it
 * in the HTTP instrumentation's per-request work for spans nobody records.
 */
export function untracedRequest(ratio: number): (request: IncomingMessage) => boolean {
  return (request) => request.headers.traceparent === undefined && Math.random() >= ratio;
}

/**
 * The root sampler under `ParentBasedSampler` (which keeps a caller's decision): a server span
 * exists only for a request already chosen, so it is recorded; any other new trace (a job without
 * a request's context) is sampled at the ratio.
 */
export class RequestSampler implements tracing.Sampler {
  constructor(private readonly others: tracing.Sampler) {}

  shouldSample(context: Context, traceId: string, spanName: string, spanKind: SpanKind, attributes: Attributes, links: Link[]): tracing.SamplingResult {
    if (spanKind === SpanKind.SERVER) return { decision: RECORD_AND_SAMPLED };
    return this.others.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `RequestSampler{${this.others.toString()}}`;
  }
}

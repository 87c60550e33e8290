import { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import type { tracing } from '@opentelemetry/sdk-node';

/** The SDK's SamplingDecision, by value: the SDK is loaded only when tracing is on. */
const RECORD_AND_SAMPLED = 2;

/**
 * The root sampler under `ParentBasedSampler` (which keeps a caller's decision): a server span
 * exists only for a request `traceRequests` already chose, so it is recorded; any other new trace
 * (a job without a request's context) is sampled at the ratio.
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

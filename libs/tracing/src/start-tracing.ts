import type { NodeSDK } from '@opentelemetry/sdk-node';
import { RequestSampler } from './request-sampler';
import { TenantSpanProcessor } from './tenant-span.processor';

export interface TracingSettings {
  readonly TRACING_ENABLED: boolean;
  readonly TRACING_SAMPLE_RATIO: number;
}

/**
 * Starts OpenTelemetry's Node SDK when TRACING_ENABLED: HTTP (in and out, W3C trace context),
 * pg and ioredis, sampled parent-based at TRACING_SAMPLE_RATIO (a continued trace
 * keeps its caller's decision; a request's new trace is chosen before anything runs for it, see
 * traceRequests and RequestSampler), exported over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (the SDK's
 * own settings: OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_HEADERS...). Must run before pg, ioredis,
 * http or Nest are first required (the apps' `instrument.ts`, imported first). Returns the SDK, or
 * undefined when tracing is off.
 */
export function startTracing(settings: TracingSettings, serviceName: string): NodeSDK | undefined {
  if (!settings.TRACING_ENABLED) return undefined;
  // Loaded only when tracing is on: every other process (and the CLI) never pays for the SDK.
  const { NodeSDK: Sdk, tracing } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const sdk = new Sdk({
    serviceName: process.env.OTEL_SERVICE_NAME ?? serviceName,
    sampler: new tracing.ParentBasedSampler({ root: new RequestSampler(new tracing.TraceIdRatioBasedSampler(settings.TRACING_SAMPLE_RATIO)) }),
    spanProcessors: [new TenantSpanProcessor(), new tracing.BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 1000 })],
    // Traces only. Left to its defaults the SDK also starts an OTLP metrics pipeline (and the
    // instrumentations then record their own histograms on every request, traced or not: measured
    // in the scoped GET's profile) beside prom-client's /metrics, and a logs pipeline nothing feeds.
    metricReaders: [],
    logRecordProcessors: [],
    // No Nest instrumentation: it opens two spans for every request, traced or not (measured: 9% of
    // the scoped GET's throughput with nothing sampled). Incoming requests are not the HTTP
    // instrumentation's either: the API's server span comes from Fastify's hooks
    // (traceRequests), chosen before anything is patched or bound. It keeps outgoing calls.
    instrumentations: [
      new HttpInstrumentation({
        disableIncomingRequestInstrumentation: true,
        // A call made outside a traced request starts no trace of its own (the callee decides).
        requireParentforOutgoingSpans: true,
      }),
      // A query span each; the pool's connect spans would double a traced request's spans for nothing.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  return sdk;
}

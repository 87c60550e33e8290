import type { NodeSDK } from '@opentelemetry/sdk-node';
import { OutgoingUrlSpanProcessor } from './outgoing-url.processor';
import { redisStatement } from './redis-statement';
import { RequestSampler } from './request-sampler';
import { statementShape } from './statement-shape';
import { TenantSpanProcessor } from './tenant-span.processor';

/** The attribute the pg instrumentation puts the statement in (semantic conventions' `db.query.text`). */
const QUERY_TEXT = 'db.query.text';

export interface TracingSettings {
  readonly TRACING_ENABLED: boolean;
  readonly TRACING_SAMPLE_RATIO: number;
}

/**
 * Starts OpenTelemetry's Node SDK when TRACING_ENABLED: HTTP (in and out, W3C trace context),
 * pg and ioredis, sampled parent-based at TRACING_SAMPLE_RATIO (a continued trace
 * keeps its caller's decision; a request's new trace is chosen before anything runs for it, see
 * traceRequests and RequestSampler), exported over OTLP/HTTP (protobuf unless
 * OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL says http/json) to OTEL_EXPORTER_OTLP_ENDPOINT (the SDK's
 * own settings: OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_HEADERS...). Must run before pg, ioredis,
 * http or Nest are first required (the apps' `instrument.ts`, imported first). Returns the SDK, or
 * undefined when tracing is off.
 */
export function startTracing(settings: TracingSettings, serviceName: string): NodeSDK | undefined {
  if (!settings.TRACING_ENABLED) return undefined;
  // Loaded only when tracing is on: every other process (and the CLI) never pays for the SDK.
  const { NodeSDK: Sdk, tracing } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const sdk = new Sdk({
    serviceName: process.env.OTEL_SERVICE_NAME ?? serviceName,
    // The active context beside the unit of work, in the process's one AsyncLocalStorage.
    contextManager: createFrameContextManager(),
    sampler: new tracing.ParentBasedSampler({ root: new RequestSampler(new tracing.TraceIdRatioBasedSampler(settings.TRACING_SAMPLE_RATIO)) }),
    spanProcessors: [new TenantSpanProcessor(), new OutgoingUrlSpanProcessor(), new tracing.BatchSpanProcessor(otlpExporter(), { scheduledDelayMillis: 1000 })],
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
      // A query span each; the pool's connect spans would double a traced request's spans for
      // nothing. Its text is the statement's shape: the values are inlined as literals.
      new PgInstrumentation({
        requireParentSpan: true,
        ignoreConnectSpans: true,
        requestHook: (span, { query }) => span.setAttribute(QUERY_TEXT, statementShape(query.text)),
      }),
      // A command's name and argument count only: its arguments carry job data, cache keys and values.
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: redisStatement }),
    ],
  });
  sdk.start();
  return sdk;
}

/**
 * The context manager tracing runs with (`FrameContextManager`), loaded on first use: a process
 * with tracing off never loads it.
 */
export function createFrameContextManager(): import('@opentelemetry/api').ContextManager {
  const { FrameContextManager } = require('./frame-context.manager') as typeof import('./frame-context.manager');
  return new FrameContextManager();
}

/**
 * OTLP over HTTP, protobuf by default: the encoding every collector must accept, and the cheaper
 * one to produce (CPU profiles of the scoped GET with every request traced: the JSON path spent
 * 44 µs a trace on the span transform and UTF-8 encoding, protobuf 16 µs on its serializer).
 * `http/json` on request; gRPC is not offered (one more native stack for nothing).
 */
export function otlpExporter(): import('@opentelemetry/sdk-node').tracing.SpanExporter {
  const protocol = process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? process.env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  if (protocol === 'http/protobuf') {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
    return new OTLPTraceExporter();
  }
  if (protocol === 'http/json') {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter();
  }
  throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol}: traces are exported over http/protobuf (the default) or http/json`);
}

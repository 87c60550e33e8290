import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { IncomingMessage } from 'node:http';
import { TenantSpanProcessor } from './tenant-span.processor';

export interface TracingSettings {
  readonly TRACING_ENABLED: boolean;
  readonly TRACING_SAMPLE_RATIO: number;
}

const UNTRACED = /^\/(health|metrics)(\/|\?|$)/;

/**
 * Starts OpenTelemetry's Node SDK when TRACING_ENABLED: HTTP (in and out, W3C trace context),
 * Nest handlers, pg and ioredis, sampled parent-based at TRACING_SAMPLE_RATIO (a continued trace
 * keeps its caller's decision), exported over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (the SDK's
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
  const { NestInstrumentation } = require('@opentelemetry/instrumentation-nestjs-core') as typeof import('@opentelemetry/instrumentation-nestjs-core');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const sdk = new Sdk({
    serviceName: process.env.OTEL_SERVICE_NAME ?? serviceName,
    sampler: new tracing.ParentBasedSampler({ root: new tracing.TraceIdRatioBasedSampler(settings.TRACING_SAMPLE_RATIO) }),
    spanProcessors: [new TenantSpanProcessor(), new tracing.BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 1000 })],
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (request: IncomingMessage) => UNTRACED.test(request.url ?? '') }),
      new NestInstrumentation(),
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  return sdk;
}

import { startTracing } from '../src/start-tracing';

// Before node:http is first required, as the apps' instrument.ts does it.
const sdk = startTracing({ TRACING_ENABLED: true, TRACING_SAMPLE_RATIO: 1 }, 'outgoing-call-probe');

/**
 * Makes one GET to PROBE_TARGET (not an argument: the SDK exports the command line as a resource
 * attribute) inside a traced server span, then exports and exits: the outgoing
 * call's span as the apps' tracing records it. Its own process: the SDK patches node:http as it
 * loads, which jest's module registry would not see.
 */
async function main(): Promise<void> {
  const { SpanKind, trace } = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  const http = require('node:http') as typeof import('node:http');
  await trace.getTracer('probe').startActiveSpan('GET /v1/probe', { kind: SpanKind.SERVER }, async (span) => {
    await new Promise<void>((resolve, reject) => {
      http.get(process.env.PROBE_TARGET as string, (response) => response.resume().on('end', () => resolve())).on('error', reject);
    });
    span.end();
  });
  await sdk?.shutdown();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);

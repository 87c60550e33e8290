import { tracing } from '@opentelemetry/sdk-node';
import { otlpExporter } from '../src/start-tracing';

/**
 * Exports one span named argv[2] through the exporter the OTLP settings choose, then exits: run
 * as its own process, since the exporter loads modules by dynamic import, which jest's VM refuses.
 */
async function main(): Promise<void> {
  const provider = new tracing.BasicTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(otlpExporter())] });
  provider.getTracer('probe').startSpan(process.argv[2]).end();
  await provider.forceFlush();
  await provider.shutdown();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);

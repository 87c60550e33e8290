import { loadConfig } from '@bulkhead/config';
import { startTracing } from '@bulkhead/tracing';
import { existsSync } from 'node:fs';

/**
 * Imported first by main.ts: tracing must start before pg, ioredis, http and Nest are required,
 * or they are not instrumented. A bad configuration is left for main.ts to report.
 */
if (existsSync('.env')) process.loadEnvFile('.env');
try {
  startTracing(loadConfig(), 'bulkhead-api');
} catch {
  // main.ts loads the configuration again and stops with its message.
}

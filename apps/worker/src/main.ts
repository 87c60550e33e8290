import { exitWithStartupError, loadConfig } from '@bulkhead/config';
import { assertRedisReachable } from '@bulkhead/redis';
import { NestFactory } from '@nestjs/core';
import { AppLogger } from '@bulkhead/observability';
import { existsSync } from 'node:fs';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  await assertRedisReachable(loadConfig());
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: false, abortOnError: false });
  app.useLogger(app.get(AppLogger));
  app.enableShutdownHooks();
  await app.init();
  app.get(AppLogger).log('worker started');
}

main().catch(exitWithStartupError);

// First: tracing patches pg, ioredis and http as they are required.
import './instrument';
import { exitWithStartupError, loadConfig } from '@bulkhead/config';
import { assertRedisReachable } from '@bulkhead/redis';
import { NestFactory } from '@nestjs/core';
import { AppLogger } from '@bulkhead/observability';
import { currentTenant, peekTenantId } from '@bulkhead/tenancy';
import { setSpanTenantSource, tenantAttributes } from '@bulkhead/tracing';
import { existsSync } from 'node:fs';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  await assertRedisReachable(loadConfig());
  setSpanTenantSource(() => (peekTenantId() === undefined ? undefined : tenantAttributes(currentTenant())));
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: false, abortOnError: false });
  app.useLogger(app.get(AppLogger));
  app.enableShutdownHooks();
  await app.init();
  app.get(AppLogger).log('worker started');
}

main().catch(exitWithStartupError);

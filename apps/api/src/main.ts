// First: tracing patches pg, ioredis and http as they are required.
import './instrument';
import { exitWithStartupError, loadConfig } from '@bulkhead/config';
import { assertRedisReachable } from '@bulkhead/redis';
import { existsSync } from 'node:fs';
import { ApiModule } from './api.module';
import { createHttpApp } from './http.setup';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig();
  await assertRedisReachable(config);
  const app = await createHttpApp(ApiModule, config, { abortOnError: false });
  app.enableShutdownHooks();
  await app.listen(config.PORT, config.HOST);
}

main().catch(exitWithStartupError);

import { exitWithStartupError, loadConfig } from '@bulkhead/config';
import { assertRedisReachable } from '@bulkhead/database';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { existsSync } from 'node:fs';
import { ApiModule } from './api.module';
import { configureHttp } from './http.setup';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig();
  await assertRedisReachable(config.REDIS_URL);
  const app = await NestFactory.create<NestExpressApplication>(ApiModule, { logger: false, bodyParser: false, abortOnError: false });
  configureHttp(app, config);
  app.enableShutdownHooks();
  await app.listen(config.PORT);
}

main().catch(exitWithStartupError);

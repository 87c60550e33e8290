import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CliModule } from './cli.module';

/** Boots the application context for one command and always closes it, so the process can exit. */
export async function withCliContext<T>(work: (context: INestApplicationContext) => Promise<T>): Promise<T> {
  const context = await NestFactory.createApplicationContext(CliModule, { logger: ['error'], abortOnError: false });
  try {
    return await work(context);
  } finally {
    await context.close();
  }
}

export function print(line = ''): void {
  process.stdout.write(line + '\n');
}

export function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

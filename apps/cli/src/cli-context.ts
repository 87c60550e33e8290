import type { INestApplicationContext } from '@nestjs/common';

/** Boots the application context for one command and always closes it, so the process can exit. */
export async function withCliContext<T>(work: (context: INestApplicationContext) => Promise<T>): Promise<T> {
  // Loaded on first use: a command that needs no context (token --operator) does not load the platform.
  const [{ NestFactory }, { CliModule }] = await Promise.all([import('@nestjs/core'), import('./cli.module')]);
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

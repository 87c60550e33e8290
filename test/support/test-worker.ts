import { BulkheadConfig, loadConfig } from '@bulkhead/config';
import { INestApplicationContext, Provider } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { WorkerModule } from '../../apps/worker/src/worker.module';

/** The real worker module (dispatcher + processor + handlers) in this process. */
export async function startTestWorker(env: Record<string, string> = {}, extraProviders: Provider[] = []): Promise<INestApplicationContext> {
  const config = loadConfig({ ...process.env, ...env });
  const moduleRef = await Test.createTestingModule({ imports: [WorkerModule], providers: extraProviders })
    .overrideProvider(BulkheadConfig)
    .useValue(config)
    .compile();
  // The worker serves no HTTP, as in apps/worker: the compiled module is its application context.
  moduleRef.useLogger(false);
  await moduleRef.init();
  return moduleRef;
}

export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, attempts = 200): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/**
 * A child process that runs one lifecycle saga to its end with the real platform modules, and kills
 * itself with SIGKILL at the first point named in KILL_AT (`<phase>:<step>[:<label>]`) it reaches.
 * Used by the SIGKILL convergence tests (compiled once by the test: loading the platform through
 * ts-node for every one of dozens of processes would take minutes); prints `outcome <x>` at the end.
 * It boots first and runs only once a line arrives on stdin: the test starts the next process while
 * this one runs, so its boot overlaps the run it will resume, and tells it to go once this one died.
 */
import { ConfigModule } from '@bulkhead/config';
import { JobsModule } from '@bulkhead/jobs';
import { SAGA_OBSERVER, SagaObserver, SagaRunner } from '@bulkhead/lifecycle';
import { LoggingModule } from '@bulkhead/observability';
import { TenancyModule } from '@bulkhead/tenancy';
import { Global, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DOMAINS } from '../../apps/domains';

const killAt = process.env.KILL_AT ?? '';

const observer: SagaObserver = (phase, step, label) => {
  const point = label ? `${phase}:${step}:${label}` : `${phase}:${step}`;
  process.stdout.write(`point ${point}\n`);
  if (point === killAt) process.kill(process.pid, 'SIGKILL');
};

@Global()
@Module({ providers: [{ provide: SAGA_OBSERVER, useValue: observer }], exports: [SAGA_OBSERVER] })
class ObserverModule {}

@Module({
  imports: [
    ObserverModule,
    ConfigModule,
    LoggingModule,
    TenancyModule.forRoot({ domains: DOMAINS, applicationName: 'bulkhead-saga-test', http: false }),
    JobsModule.forRoot({ worker: false, http: false }),
    ...DOMAINS.map((domain) => domain.module),
  ],
})
class SagaProcessModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(SagaProcessModule, { logger: false, abortOnError: false });
  const runner = app.get(SagaRunner);
  const sagaId = process.argv[2];
  // Told to go (a line), or dismissed (stdin closed): an earlier process already ended the saga.
  const go = await new Promise<boolean>((resolve) => {
    process.stdin.once('data', () => resolve(true));
    process.stdin.once('end', () => resolve(false));
  });
  process.stdin.destroy();
  if (!go) {
    await app.close();
    process.exit(0);
  }
  for (;;) {
    const outcome = await runner.run(sagaId);
    // Another (killed) run's lease has not run out yet.
    if (outcome === 'busy') {
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    process.stdout.write(`outcome ${outcome}\n`);
    break;
  }
  await app.close();
  // Pooled sockets may keep the loop alive a while; the run is over.
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REDIS_URL } from './redis-test-utils';

export interface WorkerProcessOptions {
  name: string;
  stats: string;
  concurrency: number;
  jobMs: number;
  lockMs?: number;
  stalledMs?: number;
}

/** Starts fixtures/fair-worker.fixture.ts in its own node process; resolves once it is ready. */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', join(__dirname, 'fixtures', 'fair-worker.fixture.ts')],
    {
      cwd: join(__dirname, '..', '..', '..'),
      env: {
        ...process.env,
        REDIS_URL,
        FQ_NAME: options.name,
        FQ_STATS: options.stats,
        FQ_CONCURRENCY: String(options.concurrency),
        FQ_JOB_MS: String(options.jobMs),
        FQ_LOCK_MS: String(options.lockMs ?? 30_000),
        FQ_STALLED_MS: String(options.stalledMs ?? 30_000),
        TS_NODE_PROJECT: join(__dirname, '..', '..', '..', 'tsconfig.json'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker process exited (${code}) before ready: ${stderr}`)));
  });
  return child;
}

export async function stopWorkerProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

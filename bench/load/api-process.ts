import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../test/support/fault-services';

/**
 * The settings of a benchmark's API processes on `database` of the shared server: the dev issuer,
 * warn-level logs, a pool of 10, every rate limit out of reach and no plan quota, so what is
 * measured is the request path, not a refusal.
 */
export function benchApiEnv(database: string): Record<string, string> {
  const unlimited = 'read:6000000,write:6000000,export:6000000,ingest:6000000';
  return {
    DATABASE_URL: `postgres://bulkhead_app:bulkhead_app@127.0.0.1:5432/${database}`,
    DATABASE_OWNER_URL: `postgres://bulkhead_owner:bulkhead_owner@127.0.0.1:5432/${database}`,
    DEV_ISSUER: 'true',
    DEV_ISSUER_KEY_FILE: '.data/bench-issuer-key.json',
    LOG_LEVEL: 'warn',
    DATABASE_POOL_MAX: '10',
    RATE_LIMIT_FREE: unlimited,
    RATE_LIMIT_PRO: unlimited,
    RATE_LIMIT_ENTERPRISE: unlimited,
    METERING_PLANS: 'free:;pro:;enterprise:',
  };
}

/**
 * An API process for a benchmark, started as `npm run start:api` starts it (compiled, its young
 * generation sized for a server) with `env` over this process's, answering once `/health/live`
 * does. The child is pushed to `started` as soon as it is spawned, so the caller stops it even
 * when it never comes up.
 */
export async function startBenchApi(env: Record<string, string>, started: ChildProcess[]): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--max-semi-space-size=64', '-r', 'tsconfig-paths/register', join(__dirname, '..', '..', 'apps', 'api', 'src', 'main.js')], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  started.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 480; attempt++) {
    if (child.exitCode !== null) throw new Error('bench API exited');
    if (await fetch(`${url}/health/live`).then((r) => r.ok, () => false)) return { url, child };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('bench API never answered');
}

/** Stops what `startBenchApi` started and waits for each to exit. */
export async function stopBenchApis(started: ChildProcess[]): Promise<void> {
  for (const child of started) child.kill('SIGTERM');
  await Promise.all(started.map((child) => (child.exitCode !== null || child.signalCode !== null ? undefined : new Promise((resolve) => child.once('exit', resolve)))));
}

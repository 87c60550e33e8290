import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../test/support/fault-services';

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

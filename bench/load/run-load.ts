import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadResult, LoadSpec } from './autocannon-runner';

/**
 * Runs a load script in its own process, so generating load never competes with the server
 * under test for its event loop: the plan goes in as JSON on argv, the result comes back as JSON
 * on stdout.
 */
export function runLoadProcess<R>(script: string, plan: unknown): Promise<R> {
  const json = JSON.stringify(plan);
  // A plan with thousands of tokens exceeds the kernel's limit on one argument: pass it as a file (`@<path>`).
  const dir = json.length > 64 * 1024 ? mkdtempSync(join(tmpdir(), 'bulkhead-load-')) : undefined;
  if (dir) writeFileSync(join(dir, 'plan.json'), json);
  return new Promise<R>((resolve, reject) => {
    const child = fork(script, [dir ? `@${join(dir, 'plan.json')}` : json], { silent: true, execArgv: [] });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as R) : reject(new Error(`load process exited ${code}`))));
  }).finally(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}

/** One autocannon load (bench/load/autocannon-runner.ts). */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return runLoadProcess<LoadResult>(require.resolve('./autocannon-runner'), spec);
}

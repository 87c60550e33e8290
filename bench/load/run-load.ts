import { fork } from 'node:child_process';
import type { LoadResult, LoadSpec } from './autocannon-runner';

/**
 * Runs a load script in its own process, so generating load never competes with the server
 * under test for its event loop: the plan goes in as JSON on argv, the result comes back as JSON
 * on stdout.
 */
export function runLoadProcess<R>(script: string, plan: unknown): Promise<R> {
  return new Promise((resolve, reject) => {
    const child = fork(script, [JSON.stringify(plan)], { silent: true, execArgv: [] });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as R) : reject(new Error(`load process exited ${code}`))));
  });
}

/** One autocannon load (bench/load/autocannon-runner.ts). */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return runLoadProcess<LoadResult>(require.resolve('./autocannon-runner'), spec);
}

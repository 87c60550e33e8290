import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { compiledProcess } from './platform-build';

const ROOT = join(__dirname, '..', '..');

/**
 * The real `apps/api/src/main.ts` (or the worker's) as a child process, with what it printed: compiled
 * as `npm run build` compiles it (see platform-build.ts; through ts-node each start took about 6 s).
 */
export interface ApiProcess {
  readonly child: ChildProcessWithoutNullStreams;
  output(): string;
  /** The exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
}

/** Starts the API with this environment added to the test's own (PORT among it, usually). */
export function startApiProcess(env: Record<string, string>): ApiProcess {
  return startAppProcess('apps/api/src/main.ts', env);
}

/** Starts the worker (`apps/worker/src/main.ts`) the same way; it prints `worker started` once it runs. */
export function startWorkerProcess(env: Record<string, string>): ApiProcess {
  return startAppProcess('apps/worker/src/main.ts', env);
}

function startAppProcess(main: string, env: Record<string, string>): ApiProcess {
  const compiled = compiledProcess(main);
  const child = spawn(process.execPath, compiled.args, { cwd: ROOT, env: { ...process.env, ...compiled.env, ...env } });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Waits until `url` answers 2xx; fails at once, with its output, if the process exits first. */
export async function waitUntilAnswering(api: ApiProcess, url: string, attempts = 240): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (api.child.exitCode !== null) throw new Error(`API process exited: ${api.output()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} never answered: ${api.output()}`);
}

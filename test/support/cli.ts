import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { compiledProcess } from './platform-build';

const ROOT = join(__dirname, '..', '..');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI entry point, compiled (see platform-build.ts), in a child process with the test environment. */
export function runCli(args: string[], env: Record<string, string> = {}): CliResult {
  const cli = compiledProcess('apps/cli/src/main.ts');
  const result = spawnSync(process.execPath, [...cli.args, ...args], { cwd: ROOT, env: { ...process.env, ...cli.env, ...env }, encoding: 'utf8', timeout: 180_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

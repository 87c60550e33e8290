import { execFileSync } from 'node:child_process';
import { cpus as cpuList } from 'node:os';

/**
 * `BENCH_PIN=1`: the server under test (this process and the API processes it starts) on CPU 0,
 * each load process on the others, as production would run them on separate hosts. Without it,
 * the operating system spreads the server, the load and PostgreSQL over every core, and on a
 * two-core machine the server's event loop then waits its turn behind the load generator and the
 * database's backends: a tail latency that says more about the machine than about the server.
 * PostgreSQL is left where it is (its processes belong to everyone on the machine).
 */
export interface CpuPlan {
  readonly server: string;
  readonly load: string;
}

export function cpuPlan(): CpuPlan | undefined {
  const wanted = process.env.BENCH_PIN;
  if (wanted === undefined || wanted === '' || wanted === '0') return undefined;
  // Not availableParallelism(): it counts the CPUs this process may use, one once it is pinned.
  const cpus = cpuList().length;
  if (cpus < 2) throw new Error('BENCH_PIN needs at least two CPUs (the server on one, the load on the others).');
  return { server: '0', load: cpus === 2 ? '1' : `1-${cpus - 1}` };
}

/** Pins every thread of `pid` to `cpus` (taskset's list syntax). */
export function pin(pid: number | undefined, cpus: string): void {
  if (pid === undefined) throw new Error('cannot pin a process that has no pid');
  execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', cpus, String(pid)], { stdio: 'ignore' });
}

/** Puts this process on the server's CPU, when the run is pinned: before it starts any thread of its own. */
export function pinServer(pid: number | undefined = process.pid): void {
  const plan = cpuPlan();
  if (plan) pin(pid, plan.server);
}

/** Puts a load process on the load's CPUs, when the run is pinned. */
export function pinLoad(pid: number | undefined): void {
  const plan = cpuPlan();
  if (plan) pin(pid, plan.load);
}

/** How the run placed its processes, for a section's text. */
export function cpuPlacement(): string {
  const plan = cpuPlan();
  return plan
    ? `Pinned (\`BENCH_PIN=1\`): the server under test on CPU ${plan.server}, the load on CPU ${plan.load}, PostgreSQL left to the scheduler.`
    : 'Not pinned: the server, the load and PostgreSQL share every core as the scheduler places them.';
}

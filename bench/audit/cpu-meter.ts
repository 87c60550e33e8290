import { readFileSync } from 'node:fs';
import type { Client } from 'pg';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time spent serving a run: this process (the apps under test; the load runs in another) and
 * the PostgreSQL backends connected to the bench database, read from /proc. On a shared 2-core
 * machine, throughput swings with whatever else runs; the CPU a request costs swings far less, so
 * it is measured beside the throughput. Background processes of the server (WAL writer,
 * checkpointer, autovacuum) are shared with the other databases and left out.
 */
export class CpuMeter {
  private constructor(
    private readonly admin: Client,
    private readonly database: string,
    private readonly ownStart: NodeJS.CpuUsage,
    private readonly backendsStart: Map<number, number>,
  ) {}

  static async start(admin: Client, database: string): Promise<CpuMeter> {
    return new CpuMeter(admin, database, process.cpuUsage(), await backendTicks(admin, database));
  }

  /** CPU seconds since start: this process, and the database's backends (those gone meanwhile are lost). */
  async stop(): Promise<{ api: number; database: number }> {
    const own = process.cpuUsage(this.ownStart);
    const now = await backendTicks(this.admin, this.database);
    let ticks = 0;
    for (const [pid, total] of now) ticks += total - (this.backendsStart.get(pid) ?? 0);
    return { api: (own.user + own.system) / 1e6, database: ticks / TICKS_PER_SECOND };
  }
}

async function backendTicks(admin: Client, database: string): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()", [database]);
  const ticks = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks.set(pid, Number(fields[11]) + Number(fields[12]));
    } catch {
      // The backend exited between the query and the read.
    }
  }
  return ticks;
}

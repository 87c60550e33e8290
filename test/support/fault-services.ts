import { bootstrapDatabase, migrateDatabase } from '@bulkhead/database';
import { migrationSourcesFor } from '@bulkhead/tenancy';
import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DOMAINS } from '../../apps/domains';

/**
 * PostgreSQL and Redis servers a fault test may stop and restart at will: its own cluster and its
 * own redis-server, on free ports below the ephemeral range, in a scratch directory. The shared servers the rest of
 * the suite uses are never touched.
 */

const PG_BIN = process.env.BULKHEAD_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * A port nothing listens on, below the kernel's ephemeral range (32768 and up on Linux): a port
 * the OS hands out for listen(0) is one any outgoing connection may take meanwhile, and a server
 * started seconds later (initdb first) or restarted after an outage then finds it taken.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await listensOn(port)) return port;
  }
  return listensOn(0) as Promise<number>;
}

/** Binds `port` (0: any) on 127.0.0.1 and lets it go: the port bound, or 0 when it was taken. */
function listensOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' || error.code === 'EACCES' ? resolve(0) : reject(error)));
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => resolve(bound));
    });
  });
}

/** initdb refuses to run as root: then the cluster belongs to the `postgres` OS user. */
function pgUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}

export interface FaultPostgres {
  port: number;
  /** The settings that point the platform at this cluster (database `bulkhead_fault`). */
  env: Record<string, string>;
  adminUrl(database?: string): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** `pg_ctl restart -m fast`: every session is terminated with 57P01, then the server comes back. */
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * A fresh cluster, bootstrapped and migrated by the project's own setup code; `settings` are extra
 * `-c name=value` server settings. `controlPlane: false` makes it an extra cluster of a deployment
 * (the shared pool only, as `setup` migrates one).
 */
export async function startFaultPostgres(options: { settings?: string[]; controlPlane?: boolean } = {}): Promise<FaultPostgres> {
  const dir = mkdtempSync('/tmp/bulkhead-fault-pg-');
  const user = pgUser();
  if (user) chownSync(dir, user.uid, user.gid);
  const port = await freePort();
  const data = join(dir, 'data');
  // Asynchronous, so an API served by this process keeps answering while the server goes down.
  const run = (binary: string, args: string[]) => promisify(execFile)(join(PG_BIN, binary), args, { cwd: dir, ...(user ?? {}) });
  const extra = (options.settings ?? []).map((setting) => ` -c ${setting}`).join('');
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60${extra}`;
  const ctl = (...args: string[]) => run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '30', ...args]);
  await run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  await ctl('-o', serverOptions, 'start');

  const url = (role: string, database: string) => `postgres://${role}:${role}@127.0.0.1:${port}/${database}`;
  const env = {
    DATABASE_URL: url('bulkhead_app', 'bulkhead_fault'),
    DATABASE_OWNER_URL: url('bulkhead_owner', 'bulkhead_fault'),
    DATABASE_ADMIN_URL: url('postgres', 'postgres'),
  };
  try {
    await bootstrapDatabase({ adminUrl: env.DATABASE_ADMIN_URL, ownerUrl: env.DATABASE_OWNER_URL, runtimeUrl: env.DATABASE_URL }, { recreate: true });
    await migrateDatabase({ ownerUrl: env.DATABASE_OWNER_URL, runtimeUrl: env.DATABASE_URL, sources: migrationSourcesFor(DOMAINS), controlPlane: options.controlPlane });
  } catch (error) {
    await ctl('-m', 'immediate', 'stop');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let running = true;
  return {
    port,
    env,
    adminUrl: (database = 'postgres') => url('postgres', database),
    async stop() {
      await ctl('-m', 'fast', 'stop');
      running = false;
    },
    async start() {
      await ctl('-o', serverOptions, 'start');
      running = true;
    },
    async restart() {
      await ctl('-m', 'fast', '-o', serverOptions, 'restart');
      running = true;
    },
    async destroy() {
      if (running) await ctl('-m', 'immediate', 'stop');
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface FaultRedis {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/** A redis-server of its own, persisting every write (AOF), so a restart keeps the queue. */
export async function startFaultRedis(): Promise<FaultRedis> {
  const dir = mkdtempSync('/tmp/bulkhead-fault-redis-');
  const port = await freePort();
  let server: ChildProcess | undefined;
  const start = async () => {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], {
      stdio: 'ignore',
    });
    server = child;
    for (let attempt = 0; attempt < 100; attempt++) {
      try {
        if (execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'pipe' }).toString().trim() === 'PONG') return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server on port ${port} did not start`);
  };
  const stop = async () => {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

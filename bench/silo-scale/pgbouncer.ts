import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';

/** Our own PgBouncer (Debian's `pgbouncer`, found on PATH) on a spare port, in front of the local PostgreSQL. */
export interface PgBouncer {
  readonly port: number;
  /** `url` with its host and port replaced by this PgBouncer's. */
  through(url: string): string;
  log(): string;
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  /** The upstream PostgreSQL port (127.0.0.1). */
  upstreamPort: number;
  /** Databases with their own server pool size (the shared pool's database); every other database gets `defaultPoolSize`. */
  pools: Record<string, number>;
  defaultPoolSize: number;
  /** Server connections PgBouncer may hold for one user across all databases (it closes idle ones of other databases to open new ones). */
  maxUserConnections: number;
  /** Users and passwords PgBouncer accepts (auth_type trust: listed, not checked). */
  users: Record<string, string>;
}

/** `1.18.0`, from `pgbouncer --version`. */
export function pgBouncerVersion(): string {
  return /PgBouncer (\S+)/.exec(execFileSync('pgbouncer', ['--version']).toString())?.[1] ?? 'unknown';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** PgBouncer refuses to run as root: then it runs as the `postgres` OS user. */
function serviceUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}

async function listening(port: number, child: ChildProcess, logFile: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited ${child.exitCode}: ${safeRead(logFile)}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`pgbouncer never listened on ${port}: ${safeRead(logFile)}`);
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Transaction pooling (what a multi-tenant app runs PgBouncer for): every statement of Bulkhead's
 * runs in a transaction that sets the tenant transaction-locally, so nothing depends on the session.
 */
export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  const dir = mkdtempSync('/tmp/bulkhead-pgbouncer-');
  const port = await freePort();
  const logFile = join(dir, 'pgbouncer.log');
  const databases = [
    ...Object.entries(options.pools).map(([name, size]) => `${name} = host=127.0.0.1 port=${options.upstreamPort} pool_size=${size}`),
    `* = host=127.0.0.1 port=${options.upstreamPort} pool_size=${options.defaultPoolSize}`,
  ];
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      ...databases,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      'pool_mode = transaction',
      'max_client_conn = 5000',
      `default_pool_size = ${options.defaultPoolSize}`,
      `max_user_connections = ${options.maxUserConnections}`,
      'server_idle_timeout = 60',
      'ignore_startup_parameters = extra_float_digits,options',
      `logfile = ${logFile}`,
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'users.txt'), Object.entries(options.users).map(([user, password]) => `"${user}" "${password}"`).join('\n') + '\n');
  const user = serviceUser();
  if (user) for (const file of ['', 'pgbouncer.ini', 'users.txt']) chownSync(join(dir, file), user.uid, user.gid);
  const child = spawn('pgbouncer', [join(dir, 'pgbouncer.ini')], { stdio: 'ignore', ...(user ?? {}) });
  await listening(port, child, logFile);
  return {
    port,
    through: (url) => {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    log: () => safeRead(logFile),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGINT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

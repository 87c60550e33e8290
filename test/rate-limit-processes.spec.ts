import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './support/fault-services';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';

const ROOT = join(__dirname, '..');
const READS = 4;
const INTERVAL_MS = 60_000 / READS;
const LIMITS = { RATE_LIMIT_FREE: `read:${READS},write:5,export:1,ingest:1` };

interface ApiProcess {
  url: string;
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<number | null>;
}

async function startApiProcess(): Promise<ApiProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(ROOT, 'apps/api/src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...LIMITS, PORT: String(port) },
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { url: `http://127.0.0.1:${port}`, child, output: () => output, exited };
}

async function waitFor(api: ApiProcess): Promise<void> {
  for (let attempt = 0; attempt < 240; attempt++) {
    if (api.child.exitCode !== null) throw new Error(`API process exited: ${api.output()}`);
    try {
      if ((await fetch(`${api.url}/health/live`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${api.url} never answered: ${api.output()}`);
}

/** Two real API processes (`main.ts`) behind one Redis: one tenant's limit holds across both. */
describe('rate limits across two API processes', () => {
  let admin: TestApi;
  let apis: ApiProcess[] = [];

  beforeAll(async () => {
    admin = await startTestApi();
    apis = [await startApiProcess(), await startApiProcess()];
    await Promise.all(apis.map(waitFor));
  }, 120_000);
  afterAll(async () => {
    for (const api of apis) {
      api.child.kill('SIGTERM');
      await api.exited;
    }
    await admin?.close();
  });

  it("admits one tenant's quota once across both processes, not once per process", async () => {
    const tenant = await createTenant(admin, { tier: 'free' });
    const quiet = await createTenant(admin, { tier: 'free' });
    const token = tokenFor(admin, tenant);
    const get = (api: ApiProcess, bearer = token) => fetch(`${api.url}/v1/customers`, { headers: { Authorization: `Bearer ${bearer}` } });

    // Alternating between the processes: each sees only half of the tenant's requests.
    const started = Date.now();
    const statuses: number[] = [];
    const served: string[] = [];
    for (let i = 0; i < 2 * READS; i++) {
      const response = await get(apis[i % 2]);
      statuses.push(response.status);
      served.push(response.headers.get('ratelimit-policy') ?? '');
      await response.arrayBuffer();
    }
    const elapsed = Date.now() - started;

    // A quiet tenant gets its whole quota at once, on whichever process it lands.
    expect(statuses.slice(0, READS)).toEqual(Array(READS).fill(200));
    // After that, only what the shared schedule let in meanwhile (one per 15 s): with a limit per
    // process, all 2 x READS would have been admitted.
    const lateAdmissions = statuses.slice(READS).filter((status) => status === 200).length;
    expect(lateAdmissions).toBeLessThanOrEqual(Math.floor(elapsed / INTERVAL_MS));
    // In the usual case (the loop took less than one interval) every later request was refused,
    // on both processes alike.
    if (elapsed < INTERVAL_MS) expect(statuses.slice(READS)).toEqual(Array(READS).fill(429));
    expect(new Set(served)).toEqual(new Set([`"read";q=${READS};w=60`]));

    // The other tenant is untouched on both processes.
    const quietToken = tokenFor(admin, quiet);
    for (const api of apis) expect((await get(api, quietToken)).status).toBe(200);
  }, 60_000);
});

import { ApiProcess, startApiProcess, waitUntilAnswering } from './support/api-process';
import { freePort } from './support/fault-services';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';

const READS = 4;
const INTERVAL_MS = 60_000 / READS;
const LIMITS = { RATE_LIMIT_FREE: `read:${READS},write:5,export:1,ingest:1` };

interface ServedApi extends ApiProcess {
  readonly url: string;
}

async function startServedApi(): Promise<ServedApi> {
  const port = await freePort();
  return { ...startApiProcess({ ...LIMITS, PORT: String(port) }), url: `http://127.0.0.1:${port}` };
}

/** Two real API processes (`main.ts`) behind one Redis: one tenant's limit holds across both. */
describe('rate limits across two API processes', () => {
  let admin: TestApi;
  let apis: ServedApi[] = [];

  beforeAll(async () => {
    admin = await startTestApi();
    apis = [await startServedApi(), await startServedApi()];
    await Promise.all(apis.map((api) => waitUntilAnswering(api, `${api.url}/health/live`)));
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
    const get = (api: ServedApi, bearer = token) => fetch(`${api.url}/v1/customers`, { headers: { Authorization: `Bearer ${bearer}` } });

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

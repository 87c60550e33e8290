/**
 * The load of the tenant-moves benchmark, in its own process: open-loop (requests are sent on
 * schedule whether or not earlier ones have answered, as real clients do), the moving tenant's
 * writes and reads at fixed rates and other tenants' reads beside them. Stops on the parent's
 * "stop" message, waits for every request in flight and sends back every outcome.
 */
import { Agent, request as httpRequest } from 'node:http';

interface Plan {
  url: string;
  moving: string;
  others: string[];
  writesPerSecond: number;
  readsPerSecond: number;
  otherReadsPerSecond: number;
}

/** [start ms since epoch, latency ms, status, id or email of a write] */
type Outcome = [number, number, number, string?];

const plan = JSON.parse(process.argv[2]) as Plan;
const writes: Outcome[] = [];
const reads: Outcome[] = [];
const otherReads: Outcome[] = [];
const inFlight = new Set<Promise<void>>();
let writeSeq = 0;

/**
 * `node:http` with keep-alive sockets, not `fetch`: undici's fetch costs this process several
 * times the CPU per request, and on a 2-core machine that generator's own delays were measured as
 * the tenants' latency (the fairness benchmark's quiet p99 fell from 115.6 to 30.5 ms without it).
 */
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

/** Status and body of one request; status 0 when it failed or took longer than a client waits (30 s). */
function call(method: 'GET' | 'POST', path: string, token: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const request = httpRequest(plan.url + path, { method, agent, headers, timeout: 30_000 }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      response.on('error', () => resolve({ status: 0, body: '' }));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve({ status: 0, body: '' }));
    request.end(body);
  });
}

/** The id a 201 answered with; a body that is not the created row keeps the write's e-mail (it is then looked up by that). */
function createdId(body: string, email: string): string {
  try {
    return (JSON.parse(body) as { id: string }).id;
  } catch {
    return email;
  }
}

function send(kind: 'write' | 'read' | 'other', token: string): void {
  const started = Date.now();
  const t0 = performance.now();
  const email = `load-${writeSeq++}@bench.test`;
  const request = kind === 'write' ? call('POST', '/v1/customers', token, JSON.stringify({ email, name: 'Load' })) : call('GET', '/v1/customers?limit=10', token);
  const done = request
    .then(({ status, body }) => {
      // A client gives up after 30 s: counted as failed (status 0), and a write as unacknowledged.
      const latency = performance.now() - t0;
      if (kind === 'write') writes.push([started, latency, status, status === 201 ? createdId(body, email) : email]);
      else (kind === 'read' ? reads : otherReads).push([started, latency, status]);
    })
    .finally(() => inFlight.delete(done));
  inFlight.add(done);
}

const begin = performance.now();
const sent = { write: 0, read: 0, other: 0 };
let otherIndex = 0;
const timer = setInterval(() => {
  const elapsed = (performance.now() - begin) / 1000;
  while (sent.write < elapsed * plan.writesPerSecond) (sent.write++, send('write', plan.moving));
  while (sent.read < elapsed * plan.readsPerSecond) (sent.read++, send('read', plan.moving));
  while (sent.other < elapsed * plan.otherReadsPerSecond) (sent.other++, send('other', plan.others[otherIndex++ % plan.others.length]));
}, 5);

process.on('message', async (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  while (inFlight.size) await Promise.all([...inFlight]);
  process.send!({ writes, reads, otherReads }, () => process.exit(0));
});

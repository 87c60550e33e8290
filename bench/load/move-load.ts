/**
 * The load of the tenant-moves benchmark, in its own process: open-loop (requests are sent on
 * schedule whether or not earlier ones have answered, as real clients do), the moving tenant's
 * writes and reads at fixed rates and other tenants' reads beside them. Stops on the parent's
 * "stop" message, waits for every request in flight and sends back every outcome.
 */
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

function send(kind: 'write' | 'read' | 'other', token: string): void {
  const started = Date.now();
  const t0 = performance.now();
  const email = `load-${writeSeq++}@bench.test`;
  const request =
    kind === 'write'
      ? fetch(`${plan.url}/v1/customers`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ email, name: 'Load' }), signal: AbortSignal.timeout(30_000) })
      : fetch(`${plan.url}/v1/customers?limit=10`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
  const done = request
    .then(async (response) => {
      const body = await response.text();
      // A client gives up after 30 s: counted as failed (status 0), and a write as unacknowledged.
      const latency = performance.now() - t0;
      if (kind === 'write') writes.push([started, latency, response.status, response.status === 201 ? (JSON.parse(body) as { id: string }).id : email]);
      else (kind === 'read' ? reads : otherReads).push([started, latency, response.status]);
    })
    .catch(() => {
      const latency = performance.now() - t0;
      (kind === 'write' ? writes : kind === 'read' ? reads : otherReads).push([started, latency, 0, kind === 'write' ? email : undefined]);
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

/**
 * The load of the fairness benchmark, run as its own process so that generating it never
 * competes with the server's event loop. Reads its plan as JSON from argv, prints results as JSON.
 *
 * - quiet: each quiet tenant sends one request every `quietIntervalMs` (open loop: on schedule,
 *   whether or not the previous one answered), so their latency is what a steady client sees;
 * - flood: `inFlight` closed loops for the noisy tenant, each sending its next request as soon as
 *   the previous one answered;
 * - spread: the same number of closed loops spread over every tenant (the pool saturated with no
 *   tenant flooding it): the goodput baseline.
 */
import { Agent, get as httpGet } from 'node:http';

export interface FairnessPlan {
  base: string;
  path: string;
  durationMs: number;
  quietIntervalMs: number;
  inFlight: number;
  quiet: Array<Record<string, string>>;
  noisy?: Record<string, string>;
  spread?: boolean;
}

interface Tally {
  sent: number;
  ok: number;
  byStatus: Record<string, number>;
  withoutRetryAfter: number;
  latencies: number[];
}

const tally = (): Tally => ({ sent: 0, ok: 0, byStatus: {}, withoutRetryAfter: 0, latencies: [] });

/**
 * Plain `node:http` with keep-alive sockets, not `fetch`: undici's fetch costs this process several
 * times the CPU per request, and at a flood's rate the generator's own event-loop delay then shows
 * up in the quiet tenants' latency as if it were the server's.
 */
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

function get(plan: FairnessPlan, headers: Record<string, string>): Promise<{ status: number; retryAfter: boolean }> {
  return new Promise((resolve) => {
    const request = httpGet(plan.base + plan.path, { agent, headers }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] !== undefined }));
      response.on('error', () => resolve({ status: 0, retryAfter: false }));
    });
    request.on('error', () => resolve({ status: 0, retryAfter: false }));
  });
}

async function send(plan: FairnessPlan, headers: Record<string, string>, into: Tally): Promise<void> {
  const started = performance.now();
  into.sent++;
  const { status, retryAfter } = await get(plan, headers);
  if (status !== 200 && !retryAfter) into.withoutRetryAfter++;
  into.byStatus[status] = (into.byStatus[status] ?? 0) + 1;
  if (status === 200) {
    into.ok++;
    into.latencies.push(performance.now() - started);
  }
}

export interface GroupResult {
  sent: number;
  ok: number;
  okPerSecond: number;
  byStatus: Record<string, number>;
  withoutRetryAfter: number;
  p50: number;
  p99: number;
}

export interface FairnessResult {
  quiet: GroupResult;
  loud: GroupResult;
}

function summary(t: Tally, seconds: number): GroupResult {
  const sorted = [...t.latencies].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0);
  return { sent: t.sent, ok: t.ok, okPerSecond: t.ok / seconds, byStatus: t.byStatus, withoutRetryAfter: t.withoutRetryAfter, p50: at(0.5), p99: at(0.99) };
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2]) as FairnessPlan;
  const quiet = tally();
  const loud = tally();
  const deadline = Date.now() + plan.durationMs;
  const pending = new Set<Promise<void>>();
  const timers = plan.quiet.map((headers, i) =>
    setTimeout(function tick() {
      if (Date.now() >= deadline) return;
      const request = send(plan, headers, quiet);
      pending.add(request);
      void request.finally(() => pending.delete(request));
      timers[i] = setTimeout(tick, plan.quietIntervalMs);
    }, (plan.quietIntervalMs * i) / Math.max(plan.quiet.length, 1)),
  );
  const closedLoop = async (headers: Record<string, string>, into: Tally) => {
    while (Date.now() < deadline) await send(plan, headers, into);
  };
  const everyone = plan.noisy ? [plan.noisy, ...plan.quiet] : plan.quiet;
  const loops = plan.inFlight
    ? Array.from({ length: plan.inFlight }, (_, i) => (plan.spread ? closedLoop(everyone[i % everyone.length], loud) : closedLoop(plan.noisy as Record<string, string>, loud)))
    : [];
  await Promise.all(loops);
  while (Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  timers.forEach(clearTimeout);
  await Promise.all(pending);
  const seconds = plan.durationMs / 1000;
  const result: FairnessResult = { quiet: summary(quiet, seconds), loud: summary(loud, seconds) };
  process.stdout.write(JSON.stringify(result) + '\n');
}

if (require.main === module) void main().then(() => process.exit(0));

import { loadConfig } from '@bulkhead/config';
import { DevIssuer } from '@bulkhead/identity';
import { randomUUID } from 'node:crypto';
import { ApiProcess, startApiProcess, waitUntilAnswering } from './support/api-process';
import { freePort } from './support/fault-services';

const HOUR = 3_600_000;
const BATCHES_PER_TENANT = 24;
const EVENTS_PER_BATCH = 250;
const CLIENTS_PER_TENANT = 3;
/** Acknowledged batches before each SIGKILL. */
const KILLS_AFTER = [12, 40];

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ModelEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  data?: Record<string, unknown>;
}

/** Hundredths, so the model adds exactly with integers. */
const cents = (text: string) => Math.round(Number(text) * 100);
const fromCents = (value: number) => (value % 100 === 0 ? String(value / 100) : (value / 100).toFixed(2).replace(/0$/, ''));

function bucketStart(at: number, granularity: 'hour' | 'day' | 'month'): string {
  const d = new Date(at);
  if (granularity === 'month') return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)).toISOString();
  if (granularity === 'day') return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())).toISOString();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours())).toISOString();
}

/** What the rollups must say: computed from the events alone, independently of the writer's SQL. */
function model(events: ModelEvent[], meter: string, granularity: 'hour' | 'day' | 'month'): Array<{ start: string; value: string }> {
  const buckets = new Map<string, { count: number; sum: number; max: number; users: Set<string> }>();
  for (const event of events.filter((e) => e.type === meter)) {
    const start = bucketStart(Date.parse(event.time), granularity);
    const bucket = buckets.get(start) ?? { count: 0, sum: 0, max: -Infinity, users: new Set<string>() };
    bucket.count += 1;
    if (meter === 'compute.seconds') bucket.sum += cents(String(event.data?.seconds));
    if (meter === 'storage.bytes') bucket.max = Math.max(bucket.max, Number(event.data?.bytes));
    if (meter === 'active.users') bucket.users.add(String(event.data?.user_id));
    buckets.set(start, bucket);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([start, b]) => ({
      start,
      value: meter === 'api.calls' ? String(b.count) : meter === 'compute.seconds' ? fromCents(b.sum) : meter === 'storage.bytes' ? String(b.max) : String(b.users.size),
    }));
}

function makeEvents(count: number, now: number): ModelEvent[] {
  const meters = ['api.calls', 'compute.seconds', 'storage.bytes', 'active.users'];
  return Array.from({ length: count }, (_, index) => {
    const type = meters[index % meters.length];
    // Spread over the last 20 days: most batches carry late events for past hours and days.
    const time = new Date(now - Math.floor(Math.random() * 20 * 24 * HOUR)).toISOString();
    const data =
      type === 'compute.seconds'
        ? { seconds: (Math.floor(Math.random() * 100_000) / 100).toFixed(2) }
        : type === 'storage.bytes'
          ? { bytes: Math.floor(Math.random() * 1_000_000) }
          : type === 'active.users'
            ? { user_id: `u${Math.floor(Math.random() * 300)}` }
            : undefined;
    return { specversion: '1.0', id: `e-${randomUUID()}`, source: 'crash-test', type, time, ...(data ? { data } : {}) };
  });
}

function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/**
 * The real API process killed with SIGKILL twice while clients ingest batches (each event sent
 * in three different batches: the first send and two replays re-chunked in another order), and
 * retry a batch on any connection error or 503. The rollups are written in the same statement
 * as the log, so a kill mid-ingest is a kill mid-rollup. Afterwards every meter's hourly, daily
 * and monthly rollups must equal a model computed from the events alone, in every model.
 */
describe('usage ingest across SIGKILLs of the API', () => {
  const issuer = new DevIssuer(loadConfig());
  const operator = issuer.mint({ subject: 'crash-operator', scopes: [loadConfig().AUTH_OPERATOR_SCOPE] });
  let api: ApiProcess | undefined;

  afterAll(async () => {
    api?.child.kill('SIGTERM');
    await api?.exited;
  });

  it('counts every event exactly once after replays x3 and kill -9 during ingest', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    api = startApiProcess({ PORT: String(port), LOG_LEVEL: 'error' });
    await waitUntilAnswering(api, `${base}/health/ready`);
    const now = Date.now();

    const tenants: Array<{ id: string; token: string; isolation: string; events: ModelEvent[] }> = [];
    for (const isolation of ['pool', 'schema', 'silo']) {
      const response = await fetch(`${base}/v1/admin/tenants`, {
        method: 'POST',
        headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
        body: JSON.stringify({ slug: `meter-${isolation}-${randomUUID().slice(0, 8)}`, name: 'Meter crash', tier: 'free', isolation }),
      });
      expect(response.status).toBe(201);
      const { id } = (await response.json()) as { id: string };
      tenants.push({ id, isolation, token: issuer.mint({ subject: 'crash-client', tenantId: id }), events: makeEvents(BATCHES_PER_TENANT * EVENTS_PER_BATCH, now) });
    }

    const figures = { connectionErrors: 0, unavailable: 0, acknowledged: 0, accepted: 0, duplicates: 0 };
    const deadline = Date.now() + 150_000;
    const send = async (token: string, batch: ModelEvent[]): Promise<void> => {
      while (Date.now() < deadline) {
        let response: Response;
        try {
          response = await fetch(`${base}/v1/usage/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ events: batch }),
          });
        } catch {
          figures.connectionErrors++;
          await pause(100);
          continue;
        }
        const body = (await response.json()) as { accepted?: number; duplicates?: number; refused?: number };
        if (response.status === 200) {
          expect(body.refused).toBe(0);
          figures.acknowledged++;
          figures.accepted += body.accepted ?? 0;
          figures.duplicates += body.duplicates ?? 0;
          return;
        }
        // The API's own error lines (LOG_LEVEL error) say what a 500 was.
        if (response.status !== 503) throw new Error(`unexpected ${response.status} ${JSON.stringify(body)}\n${api?.output().slice(-4000)}`);
        figures.unavailable++;
        await pause(50);
      }
      throw new Error('batch never acknowledged');
    };

    // Round 1 in order, rounds 2 and 3 re-chunked from a shuffle: every event three times.
    const clients = tenants.flatMap((tenant) => {
      const rounds = [tenant.events, shuffled(tenant.events), shuffled(tenant.events)];
      const queue = rounds.flatMap((round) => Array.from({ length: BATCHES_PER_TENANT }, (_, i) => round.slice(i * EVENTS_PER_BATCH, (i + 1) * EVENTS_PER_BATCH)));
      return Array.from({ length: CLIENTS_PER_TENANT }, async () => {
        for (let batch = queue.shift(); batch !== undefined; batch = queue.shift()) await send(tenant.token, batch);
      });
    });
    const crash = (async () => {
      for (const after of KILLS_AFTER) {
        while (figures.acknowledged < after) await pause(2);
        const victim = api as ApiProcess;
        victim.child.kill('SIGKILL');
        await victim.exited;
        api = startApiProcess({ PORT: String(port), LOG_LEVEL: 'error' });
        await waitUntilAnswering(api, `${base}/health/ready`);
      }
    })();
    await Promise.all([...clients, crash]);

    const total = tenants.length * BATCHES_PER_TENANT * EVENTS_PER_BATCH;
    expect(figures.connectionErrors).toBeGreaterThan(0);
    // Accepted once each, however many times sent; acknowledged answers never over-count.
    expect(figures.accepted).toBeLessThanOrEqual(total);

    const from = new Date(now - 21 * 24 * HOUR);
    const to = new Date(now + HOUR);
    for (const tenant of tenants) {
      for (const meter of ['api.calls', 'compute.seconds', 'storage.bytes', 'active.users']) {
        for (const granularity of ['hour', 'day', 'month'] as const) {
          const start = granularity === 'month' ? new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() - 1, 1)) : from;
          const response = await fetch(`${base}/v1/usage?meter=${meter}&from=${start.toISOString()}&to=${to.toISOString()}&granularity=${granularity}`, {
            headers: { authorization: `Bearer ${tenant.token}` },
          });
          expect(response.status).toBe(200);
          const report = (await response.json()) as { buckets: Array<{ start: string; value: string }> };
          expect({ isolation: tenant.isolation, meter, granularity, buckets: report.buckets }).toEqual({
            isolation: tenant.isolation,
            meter,
            granularity,
            buckets: model(tenant.events, meter, granularity),
          });
        }
      }
    }
  }, 240_000);
});

/**
 * Usage ingest load in its own process: pre-built batches of CloudEvents (a share of them
 * duplicates of events already sent) posted from `connections` concurrent loops (fetch keeps connections alive), round-robin over the
 * tenants' tokens. Reads the plan as JSON from argv; prints what it measured and the events it
 * sent (so the scenario can check the totals).
 */
import { randomUUID } from 'node:crypto';

export interface IngestPlan {
  url: string;
  /** Sent as `Authorization: Bearer` (API) or `x-tenant` (bare floor). */
  tenants: Array<{ id: string; headers: Record<string, string> }>;
  batches: number;
  batchSize: number;
  duplicateShare: number;
  connections: number;
}

export interface IngestResult {
  eventsPerSecond: number;
  batchesPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** Per tenant: the distinct events sent and the sum of their `seconds`, in hundredths. */
  sent: Record<string, { unique: number; centis: number }>;
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2]) as IngestPlan;
  const sent: IngestResult['sent'] = Object.fromEntries(plan.tenants.map((t) => [t.id, { unique: 0, centis: 0 }]));
  const history = new Map<string, object[]>(plan.tenants.map((t) => [t.id, []]));
  const now = Date.now();
  // Built before the clock starts: the load measures the server, not JSON building here.
  const bodies = Array.from({ length: plan.batches }, (_, b) => {
    const tenant = plan.tenants[b % plan.tenants.length];
    const seen = history.get(tenant.id) as object[];
    const events = Array.from({ length: plan.batchSize }, () => {
      if (seen.length > 0 && Math.random() < plan.duplicateShare) return seen[Math.floor(Math.random() * seen.length)];
      const centis = 1 + Math.floor(Math.random() * 10_000);
      const event = {
        specversion: '1.0',
        id: randomUUID(),
        source: 'bench',
        type: 'compute.seconds',
        time: new Date(now - Math.floor(Math.random() * 3 * 86_400_000)).toISOString(),
        data: { seconds: (centis / 100).toFixed(2) },
      };
      sent[tenant.id].unique += 1;
      sent[tenant.id].centis += centis;
      seen.push(event);
      return event;
    });
    return { headers: { ...tenant.headers, 'content-type': 'application/json' }, body: JSON.stringify({ events }) };
  });
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: plan.connections }, async () => {
      for (let i = next++; i < bodies.length; i = next++) {
        const t0 = process.hrtime.bigint();
        // Resent until acknowledged: a refused batch wrote nothing, so resending is exact.
        for (;;) {
          const response = await fetch(`${plan.url}/v1/usage/events`, { method: 'POST', headers: bodies[i].headers, body: bodies[i].body });
          await response.text();
          if (response.status === 200) break;
          errors += 1;
        }
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const result: IngestResult = {
    eventsPerSecond: (plan.batches * plan.batchSize) / elapsed,
    batchesPerSecond: plan.batches / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
    sent,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

if (require.main === module) void main().then(() => process.exit(0));

/**
 * Runs one autocannon load in its own process, so generating the load never competes with the
 * server under test for its event loop. Reads the load as JSON from argv; prints the result.
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';

export interface LoadSpec {
  url: string;
  connections: number;
  durationS?: number;
  amount?: number;
  method?: 'GET' | 'POST';
  headers: Record<string, string>;
  /** Paths taken in turn, one per request. */
  paths: string[];
  /** A JSON body template for writes; `{{i}}` is replaced by a running number. */
  body?: string;
  /** Extra headers taken in turn with the paths, one set per request (e.g. tokens of several tenants). */
  headerSets?: Array<Record<string, string>>;
  /** Bodies taken in turn (overrides `body`), e.g. each naming its own tenant's customer. */
  bodies?: string[];
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Responses received in the whole run. */
  total: number;
  /** Responses by status code. */
  codes?: Record<string, number>;
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  const spec = JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg) as LoadSpec;
  let next = 0;
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    ...(spec.amount ? { amount: spec.amount } : { duration: spec.durationS ?? 5 }),
    method: spec.method ?? 'GET',
    headers: spec.body || spec.bodies ? { ...spec.headers, 'content-type': 'application/json' } : spec.headers,
    requests: [
      {
        setupRequest: (request) => {
          const i = next++;
          const body = spec.bodies ? spec.bodies[i % spec.bodies.length] : spec.body;
          const headers = spec.headerSets ? { ...request.headers, ...spec.headerSets[i % spec.headerSets.length] } : request.headers;
          return { ...request, headers, path: spec.paths[i % spec.paths.length], ...(body ? { body: body.replace(/\{\{i\}\}/g, String(i)) } : {}) };
        },
      },
    ],
  });
  const measured: LoadResult = {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    total: result.requests.total,
    codes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count ?? 0])),
  };
  process.stdout.write(JSON.stringify(measured) + '\n');
}

if (require.main === module) void main().then(() => process.exit(0));

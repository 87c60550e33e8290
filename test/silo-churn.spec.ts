import { loadConfig } from '@bulkhead/config';
import { SiloDataSources, TenantRecord } from '@bulkhead/control-plane';
import { withPg } from '@bulkhead/database';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import request from 'supertest';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';

/**
 * Twelve silo tenants served round-robin under a budget of six silo connections (three pools of
 * two): pools are evicted and reopened constantly, and still no request fails, the silo
 * connections never exceed the budget, as the API counts its own sockets and as PostgreSQL sees
 * them (pg_stat_activity), and none is left open after shutdown.
 */
describe('silo churn under a connection budget', () => {
  let api: TestApi;
  let tenants: TenantRecord[];
  const admin = loadConfig().DATABASE_ADMIN_URL;

  beforeAll(async () => {
    // The budget under test is connections, not latency: a queue budget of 10 s (not 1 s) keeps a
    // busy CI machine's slow reconnections from shedding a request (a 503 seen there).
    api = await startTestApi({ DATABASE_CONNECTION_BUDGET: '16', DATABASE_POOL_MAX: '10', SILO_POOL_MAX: '2', TENANT_MAX_CONNECTIONS: '2', POOL_QUEUE_BUDGET_MS: '10000' });
    tenants = [];
    for (let i = 0; i < 12; i++) tenants.push(await createTenant(api, { isolation: 'silo' }));
  }, 120_000);

  async function siloConnections(names: string[]): Promise<number> {
    const ports = [...ownPorts()];
    const result = await withPg(admin, 'churn-probe', (client) =>
      // This API's silo pools only, told apart by the client port of each backend: other suites'
      // fleet-wide work (the doctor, audit verification, migrations, an operator's usage report or
      // billing export in their own API, named bulkhead-api-silo too) connects to every silo of the
      // shared test database now and then.
      client.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ANY($1) AND application_name = 'bulkhead-api-silo' AND client_port = ANY($2::int[])", [
        names,
        ports,
      ]),
    );
    return result.rows[0].n;
  }

  it('never fails a request and never exceeds the budget', async () => {
    const silos = api.app.get(SiloDataSources);
    expect(silos.maxConnections).toBe(6);
    const names = tenants.map((t) => t.databaseName as string);
    const tokens = tenants.map((t) => tokenFor(api, t));
    let peak = 0;
    let peakOwn = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakOwn = Math.max(peakOwn, silos.connections);
        peak = Math.max(peak, await siloConnections(names));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();

    const statuses = new Map<string, number>();
    let next = 0;
    const total = 480;
    await Promise.all(
      Array.from({ length: 24 }, async () => {
        while (next < total) {
          const i = next++;
          const response = await request(api.server).get('/v1/customers').set('Authorization', `Bearer ${tokens[i % tokens.length]}`);
          // A failure names itself (which of the two sheds, say), not only its status.
          const outcome = response.status === 200 ? '200' : `${response.status} ${response.body?.detail ?? ''}`;
          statuses.set(outcome, (statuses.get(outcome) ?? 0) + 1);
        }
      }),
    );
    sampling = false;
    await sampler;

    expect(Object.fromEntries(statuses)).toEqual({ 200: total });
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(silos.maxConnections);
    expect(peakOwn).toBeGreaterThan(0);
    expect(peakOwn).toBeLessThanOrEqual(silos.maxConnections);

    await api.close();
    expect(silos.connections).toBe(0);
    expect(await siloConnections(names)).toBe(0);
  }, 120_000);
});

/** The local TCP ports of this process's sockets (Linux /proc), the API under test being in this process. */
function ownPorts(): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (socket) inodes.add(socket[1]);
    } catch {
      // Closed meanwhile.
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns.length > 9 && inodes.has(columns[9])) ports.add(parseInt(columns[1].split(':').pop() as string, 16));
    }
  }
  return ports;
}

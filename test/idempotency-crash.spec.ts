import { loadConfig } from '@bulkhead/config';
import { DevIssuer } from '@bulkhead/identity';
import { randomUUID } from 'node:crypto';
import { ApiProcess, startApiProcess, waitUntilAnswering } from './support/api-process';
import { freePort } from './support/fault-services';

const WRITES_PER_TENANT = 30;
const CLIENTS_PER_TENANT = 6;
/** Successful answers before the kill: the load is well under way, most writes still to come. */
const KILL_AFTER = 20;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The real API process killed with SIGKILL in the middle of keyed POSTs, then restarted, while
 * clients retry every write with its own key on connection errors (and on 409 in progress); half
 * the writes also drop their first connection mid-request on the client's side. Each intended
 * write must exist exactly once, and each client's final answer must name that row.
 */
describe('Idempotency-Key across a crash of the API', () => {
  const issuer = new DevIssuer(loadConfig());
  const operator = issuer.mint({ subject: 'crash-operator', scopes: [loadConfig().AUTH_OPERATOR_SCOPE] });
  let api: ApiProcess | undefined;

  afterAll(async () => {
    api?.child.kill('SIGTERM');
    await api?.exited;
  });

  it('leaves every intended write exactly once after kill -9 and retries with the same keys', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    api = startApiProcess({ PORT: String(port) });
    await waitUntilAnswering(api, `${base}/health/ready`);

    const tenants: Array<{ id: string; token: string; isolation: string }> = [];
    for (const isolation of ['pool', 'schema', 'silo']) {
      const response = await fetch(`${base}/v1/admin/tenants`, {
        method: 'POST',
        headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
        body: JSON.stringify({ slug: `crash-${isolation}-${randomUUID().slice(0, 8)}`, name: 'Crash', tier: 'free', isolation }),
      });
      expect(response.status).toBe(201);
      const { id } = (await response.json()) as { id: string };
      tenants.push({ id, isolation, token: issuer.mint({ subject: 'crash-client', tenantId: id }) });
    }

    const figures = { connectionErrors: 0, inProgress: 0, replayed: 0, fresh: 0 };
    const answers = new Map<string, { tenant: string; id: string }>();
    let successes = 0;
    const deadline = Date.now() + 90_000;

    /** One intended write, retried with the same key until the API acknowledges it. */
    const write = async (tenant: (typeof tenants)[number], key: string, dropFirst: boolean): Promise<void> => {
      for (let attempt = 0; Date.now() < deadline; attempt++) {
        let response: Response;
        try {
          response = await fetch(`${base}/v1/projects`, {
            // Half the writes also lose their first answer on the client's side: the request was sent and usually commits.
            signal: dropFirst && attempt === 0 ? AbortSignal.timeout(Math.floor(Math.random() * 20)) : undefined,
            method: 'POST',
            headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json', 'idempotency-key': `"${key}"` },
            body: JSON.stringify({ name: `crash ${key}` }),
          });
        } catch {
          figures.connectionErrors++;
          await pause(100);
          continue;
        }
        const body = (await response.json()) as { id?: string; code?: string };
        if (response.status === 201 && body.id) {
          answers.set(key, { tenant: tenant.id, id: body.id });
          figures[response.headers.get('idempotency-replayed') === 'true' ? 'replayed' : 'fresh']++;
          successes++;
          return;
        }
        // The dead process's transaction may still hold the key for a moment.
        if (response.status === 409 && body.code === 'idempotency_key_in_progress') figures.inProgress++;
        else if (response.status !== 503) throw new Error(`unexpected ${response.status} ${JSON.stringify(body)}`);
        await pause(50);
      }
      throw new Error(`write ${key} never acknowledged`);
    };

    const intended = new Map(tenants.map((tenant) => [tenant.id, Array.from({ length: WRITES_PER_TENANT }, () => randomUUID())]));
    const clients = tenants.flatMap((tenant) => {
      const queue = [...(intended.get(tenant.id) as string[])];
      return Array.from({ length: CLIENTS_PER_TENANT }, async () => {
        for (let key = queue.shift(); key !== undefined; key = queue.shift()) await write(tenant, key, queue.length % 2 === 0);
      });
    });

    const crash = (async () => {
      while (successes < KILL_AFTER) await pause(5);
      const victim = api as ApiProcess;
      victim.child.kill('SIGKILL');
      await victim.exited;
      api = startApiProcess({ PORT: String(port) });
      await waitUntilAnswering(api, `${base}/health/ready`);
    })();

    await Promise.all([...clients, crash]);
    expect(figures.connectionErrors).toBeGreaterThan(0);
    expect(figures.fresh + figures.replayed).toBe(tenants.length * WRITES_PER_TENANT);
    // Dropped answers whose write had committed were replayed, not written again.
    expect(figures.replayed).toBeGreaterThan(0);

    for (const tenant of tenants) {
      const rows: Array<{ id: string; name: string }> = [];
      let after: string | null = null;
      do {
        const response = await fetch(`${base}/v1/projects?limit=100${after ? `&after=${after}` : ''}`, { headers: { authorization: `Bearer ${tenant.token}` } });
        const page = (await response.json()) as { items: Array<{ id: string; name: string }>; next: string | null };
        rows.push(...page.items);
        after = page.next;
      } while (after);
      const perKey = new Map<string, string[]>();
      for (const row of rows) perKey.set(row.name.replace(/^crash /, ''), [...(perKey.get(row.name.replace(/^crash /, '')) ?? []), row.id]);
      const keys = intended.get(tenant.id) as string[];
      expect({ isolation: tenant.isolation, rows: rows.length }).toEqual({ isolation: tenant.isolation, rows: keys.length });
      for (const key of keys) {
        expect({ key, ids: perKey.get(key) }).toEqual({ key, ids: [answers.get(key)?.id] });
      }
    }
  }, 180_000);
});

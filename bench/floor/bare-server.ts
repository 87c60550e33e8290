import { createServer, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { escapeLiteral, Pool } from 'pg';

// The rollup row id exactly as the platform computes it (usage_write): the floor and the API write
// the same tenant's rollups in one run, and a row of another id for the same period and shard
// made the API's next upsert of it fail on the period's unique index.
const METERED_SQL = `
WITH inserted AS (
  INSERT INTO usage_events (tenant_id, id, event_id, meter, origin, source, subject, occurred_at, value)
  VALUES ($1::uuid, md5($1::uuid::text || '|' || $2::text)::uuid, $2::text, 'orders.created', 'recorded', 'bulkhead', $3::text, now(), 1)
  ON CONFLICT (tenant_id, id) DO NOTHING
  RETURNING id, occurred_at
)
INSERT INTO usage_rollups (tenant_id, id, meter, granularity, period_start, shard, event_count, value_sum, value_max, unique_count, latest_value, latest_at, latest_event)
SELECT $1::uuid, md5(md5('orders.created|' || g || '|' || extract(epoch FROM date_trunc(g, i.occurred_at, 'UTC'))::bigint::text)::uuid::text || '|' || (1 + pg_backend_pid() % 16)::text)::uuid,
       'orders.created', g, date_trunc(g, i.occurred_at, 'UTC'), 1 + pg_backend_pid() % 16, 1, 1, 1, 0, 1, i.occurred_at, i.id
  FROM inserted i CROSS JOIN (VALUES ('hour'), ('day'), ('month')) AS v(g)
ON CONFLICT (tenant_id, id) DO UPDATE SET event_count = usage_rollups.event_count + 1, value_sum = usage_rollups.value_sum + 1,
  latest_at = GREATEST(usage_rollups.latest_at, EXCLUDED.latest_at), updated_at = now()`;

/** METERED_SQL with its values inlined, to travel in a COMMIT message (which takes no bind parameters). */
function meteredStatement(tenant: string, key: string, subject: string): string {
  return METERED_SQL.replaceAll('$1', escapeLiteral(tenant)).replaceAll('$2', escapeLiteral(key)).replaceAll('$3', escapeLiteral(subject));
}

/**
 * An audit entry of about the size the platform writes (~700 bytes of JSON, ~100 of sealed
 * personal data), appended as the platform appends it: through `audit_append` (the runtime role
 * may not insert into the audit tables itself), which writes the entry and its pending mark.
 */
function auditInsert(tenant: string, orderId: string): string {
  const entry = JSON.stringify({ tenant, action: 'POST /v1/orders', outcome: 'committed', at: new Date().toISOString(), resource: { type: 'orders', id: orderId, route: '/v1/orders' }, pad: 'x'.repeat(520) });
  return `SELECT audit_append('${tenant}'::uuid, gen_random_uuid(), now(), 'POST /v1/orders', 'committed', 'tenant_user', NULL, ${escapeLiteral(entry)}, decode(md5(random()::text) || md5(random()::text) || md5(random()::text), 'hex'))`;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const COLUMNS = 'id, customer_id, status, total_cents, currency, note, created_at, updated_at';

/** The scoped list of `GET /v1/orders` in one message: the tenant set transaction-locally, then the page. */
export function listOrdersSql(tenant: string, limit: number): string {
  return `SELECT set_config('app.tenant_id', '${tenant}', true); SELECT ${COLUMNS} FROM orders WHERE tenant_id = '${tenant}' ORDER BY id LIMIT ${limit}`;
}

/** A floor's answer: the status, and the body as JSON when there is one. */
export function answer(response: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) response.writeHead(status).end();
  else response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * The bare floor: `node:http` + `pg` doing the same scoped work as `GET /v1/orders/:id`,
 * `GET /v1/orders` and `POST /v1/orders`, as the runtime role with RLS on: reads send
 * `set_config(..., true)` and the SELECT in one message; the write is a transaction that sets the
 * tenant, checks the customer and inserts. No framework, no token (the tenant comes from a
 * header), no validation beyond parsing, no fairness: the pool's FIFO.
 */
export async function startBareServer(runtimeUrl: string, poolMax: number): Promise<{ url: string; close(): Promise<void> }> {
  const pool = new Pool({ connectionString: runtimeUrl, max: poolMax });
  const server: Server = createServer((request, response) => {
    const tenant = String(request.headers['x-tenant'] ?? '');
    if (!UUID.test(tenant)) return answer(response, 400);
    const url = new URL(request.url ?? '/', 'http://x');
    const id = /^\/v1\/orders\/([0-9a-f-]{36})$/.exec(url.pathname)?.[1];
    if (request.method === 'GET' && id && UUID.test(id)) {
      pool
        .query(`SELECT set_config('app.tenant_id', '${tenant}', true); SELECT ${COLUMNS} FROM orders WHERE tenant_id = '${tenant}' AND id = '${id}'`)
        .then((results) => {
          const [row] = (results as unknown as Array<{ rows: unknown[] }>)[1].rows;
          answer(response, row ? 200 : 404, row);
        })
        .catch(() => answer(response, 503));
      return;
    }
    if (request.method === 'GET' && url.pathname === '/v1/orders') {
      const limit = Math.min(Number(url.searchParams.get('limit') ?? 20) || 20, 100);
      pool
        .query(listOrdersSql(tenant, limit))
        .then((results) => answer(response, 200, { items: (results as unknown as Array<{ rows: unknown[] }>)[1].rows, next: null }))
        .catch(() => answer(response, 503));
      return;
    }
    if (request.method === 'POST' && url.pathname === '/v1/orders') {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        let body: { customerId?: string; totalCents?: number; currency?: string };
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return answer(response, 400);
        }
        void (async () => {
          const client = await pool.connect();
          try {
            // The platform's round trips: no lookup of the customer first (the foreign key
            // refuses one of another tenant or none), and the transaction's start, the tenant
            // setting and the insert (its values inlined as literals) in one message.
            const values = [tenant, String(body.customerId), String(body.totalCents), String(body.currency)].map((value) => client.escapeLiteral(value));
            const results = (await client.query(
              `START TRANSACTION; SELECT set_config('app.tenant_id', '${tenant}', true); ` +
                `INSERT INTO orders (tenant_id, id, customer_id, status, total_cents, currency) VALUES (${values[0]}, gen_random_uuid(), ${values[1]}, 'pending', ${values[2]}, ${values[3]}) RETURNING ${COLUMNS}`,
            )) as unknown as Array<{ rows: unknown[] }>;
            const inserted = results[results.length - 1];
            if (request.headers['x-floor-work'] === 'metered-audited') {
              // The same database work the platform adds to a write, sent as it sends it in the
              // COMMIT message: the usage event with the hour/day/month rollups of the
              // connection's shard, and an audit entry about the size of a real one.
              const order = inserted.rows[0] as { id: string };
              await client.query(`${meteredStatement(tenant, `orders.created:${order.id}`, order.id)}; ${auditInsert(tenant, order.id)}; COMMIT`);
            } else {
              await client.query('COMMIT');
            }
            answer(response, 201, inserted.rows[0]);
          } catch (error) {
            await client.query('ROLLBACK').catch(() => undefined);
            answer(response, (error as { code?: string }).code === '23503' ? 422 : 503);
          } finally {
            client.release();
          }
        })();
      });
      return;
    }
    answer(response, 404);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}

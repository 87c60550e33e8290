import { createServer, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The bare floor: `node:http` + `pg` doing the same scoped work as `GET /v1/orders/:id`,
 * `GET /v1/orders` and `POST /v1/orders`, as the runtime role with RLS on: reads send
 * `set_config(..., true)` and the SELECT in one message; the write is a transaction that sets the
 * tenant, checks the customer and inserts. No framework, no token (the tenant comes from a
 * header), no validation beyond parsing, no fairness: the pool's FIFO.
 */
export async function startBareServer(runtimeUrl: string, poolMax: number): Promise<{ url: string; close(): Promise<void> }> {
  const pool = new Pool({ connectionString: runtimeUrl, max: poolMax });
  const COLUMNS = 'id, customer_id, status, total_cents, currency, note, created_at, updated_at';
  const answer = (response: ServerResponse, status: number, body?: unknown) => {
    if (body === undefined) response.writeHead(status).end();
    else response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
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
        .query(`SELECT set_config('app.tenant_id', '${tenant}', true); SELECT ${COLUMNS} FROM orders WHERE tenant_id = '${tenant}' ORDER BY id LIMIT ${limit}`)
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
            await client.query(`START TRANSACTION; SELECT set_config('app.tenant_id', '${tenant}', true)`);
            const found = await client.query('SELECT id FROM customers WHERE tenant_id = $1 AND id = $2', [tenant, body.customerId]);
            if (!found.rowCount) {
              await client.query('ROLLBACK');
              return answer(response, 422);
            }
            const inserted = await client.query(
              `INSERT INTO orders (tenant_id, id, customer_id, status, total_cents, currency) VALUES ($1, gen_random_uuid(), $2, 'pending', $3, $4) RETURNING ${COLUMNS}`,
              [tenant, body.customerId, body.totalCents, body.currency],
            );
            await client.query('COMMIT');
            answer(response, 201, inserted.rows[0]);
          } catch {
            await client.query('ROLLBACK').catch(() => undefined);
            answer(response, 503);
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

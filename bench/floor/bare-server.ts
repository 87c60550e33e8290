import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The bare floor: `node:http` + `pg` doing the same scoped list read as `GET /v1/orders`, as the
 * runtime role with RLS on, the tenant set with `set_config(..., true)` and the SELECT in one
 * message. No framework, no token (the tenant comes from a header), no fairness: the pool's FIFO.
 */
export async function startBareServer(runtimeUrl: string, poolMax: number): Promise<{ url: string; close(): Promise<void> }> {
  const pool = new Pool({ connectionString: runtimeUrl, max: poolMax });
  const server: Server = createServer((request, response) => {
    const tenant = String(request.headers['x-tenant'] ?? '');
    const limit = Math.min(Number(new URL(request.url ?? '/', 'http://x').searchParams.get('limit') ?? 20) || 20, 100);
    if (!UUID.test(tenant)) {
      response.writeHead(400).end();
      return;
    }
    pool
      .query(
        `SELECT set_config('app.tenant_id', '${tenant}', true);
         SELECT id, customer_id, status, total_cents, currency, note, created_at, updated_at FROM orders
          WHERE tenant_id = '${tenant}' ORDER BY id LIMIT ${limit}`,
      )
      .then((results) => {
        const rows = (results as unknown as Array<{ rows: unknown[] }>)[1].rows;
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: rows, next: null }));
      })
      .catch(() => response.writeHead(503).end());
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

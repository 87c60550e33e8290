import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { answer, listOrdersSql, UUID } from './bare-server';

/**
 * The silo bare floor: `node:http` + `pg` doing the scoped list of `GET /v1/orders` for
 * database-per-tenant tenants, as the runtime role with RLS on, the tenant set with
 * `set_config(..., true)` and the SELECT in one message. One connection per silo, opened on the
 * silo's first request and held: no budget, no eviction, no token (the tenant comes from a header),
 * no registry (the tenant's database is given up front). What PostgreSQL itself makes of serving
 * many silo databases round-robin, with nothing of Bulkhead's in between.
 */
export async function startBareSiloServer(
  urlOf: (database: string) => string,
  databases: ReadonlyMap<string, string>,
): Promise<{ url: string; connections(): number; close(): Promise<void> }> {
  const pools = new Map<string, Pool>();
  const poolOf = (tenant: string, database: string) => {
    let pool = pools.get(tenant);
    if (!pool) {
      pool = new Pool({ connectionString: urlOf(database), max: 1, idleTimeoutMillis: 0 });
      pools.set(tenant, pool);
    }
    return pool;
  };
  const server: Server = createServer((request, response) => {
    const tenant = String(request.headers['x-tenant'] ?? '');
    const database = databases.get(tenant);
    if (!UUID.test(tenant) || !database) return answer(response, 400);
    const url = new URL(request.url ?? '/', 'http://x');
    if (request.method !== 'GET' || url.pathname !== '/v1/orders') return answer(response, 404);
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 20) || 20, 100);
    poolOf(tenant, database)
      .query(listOrdersSql(tenant, limit))
      .then((results) => answer(response, 200, { items: (results as unknown as Array<{ rows: unknown[] }>)[1].rows, next: null }))
      .catch(() => answer(response, 503));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => [...pools.values()].reduce((sum, pool) => sum + pool.totalCount, 0),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...pools.values()].map((pool) => pool.end()));
    },
  };
}

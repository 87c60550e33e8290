import { createHash } from 'node:crypto';
import { createServer, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The same dedupe key as the platform: sha256 of tenant and event id, as a UUID. */
function rowId(tenantId: string, eventId: string): string {
  const hex = createHash('sha256').update(`${tenantId}\n${eventId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The log insert and the hour/day/month rollups of the rows it inserted, in one statement. */
const WRITE = `
WITH inserted AS (
  INSERT INTO usage_events (tenant_id, id, event_id, meter, origin, source, occurred_at, value, data)
  SELECT $1, e.id, e.event_id, e.meter, 'ingested', e.source, e.occurred_at, e.value, e.data
    FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::numeric[], $8::jsonb[]) AS e(id, event_id, meter, source, occurred_at, value, data)
  ON CONFLICT (tenant_id, id) DO NOTHING
  RETURNING id, meter, occurred_at, value
),
deltas AS (
  SELECT meter, g.granularity, date_trunc(g.granularity, occurred_at, 'UTC') AS period_start, count(*) AS n, sum(value) AS s, max(value) AS mx,
         (array_agg(value ORDER BY occurred_at DESC, id DESC))[1] AS lv, max(occurred_at) AS la, (array_agg(id ORDER BY occurred_at DESC, id DESC))[1] AS le
    FROM inserted CROSS JOIN (VALUES ('hour'), ('day'), ('month')) AS g(granularity) GROUP BY 1, 2, 3
),
rolled AS (
  INSERT INTO usage_rollups (tenant_id, id, meter, granularity, period_start, event_count, value_sum, value_max, unique_count, latest_value, latest_at, latest_event)
  SELECT $1, md5(meter || '|' || granularity || '|' || extract(epoch FROM period_start)::bigint::text)::uuid, meter, granularity, period_start, n, s, mx, 0, lv, la, le
    FROM deltas ORDER BY 2
  ON CONFLICT (tenant_id, id) DO UPDATE SET
    event_count = usage_rollups.event_count + EXCLUDED.event_count, value_sum = usage_rollups.value_sum + EXCLUDED.value_sum,
    value_max = GREATEST(usage_rollups.value_max, EXCLUDED.value_max),
    latest_value = CASE WHEN (EXCLUDED.latest_at, EXCLUDED.latest_event) > (usage_rollups.latest_at, usage_rollups.latest_event) THEN EXCLUDED.latest_value ELSE usage_rollups.latest_value END,
    latest_event = CASE WHEN (EXCLUDED.latest_at, EXCLUDED.latest_event) > (usage_rollups.latest_at, usage_rollups.latest_event) THEN EXCLUDED.latest_event ELSE usage_rollups.latest_event END,
    latest_at = GREATEST(usage_rollups.latest_at, EXCLUDED.latest_at), updated_at = now()
  RETURNING 1
)
SELECT id FROM inserted`;

interface Event {
  id: string;
  source: string;
  type: string;
  time: string;
  data: { seconds: string };
}

/**
 * The bare floor of usage ingest: `node:http` + `pg`, the tenant from an `x-tenant` header, the
 * batch parsed and sorted, then one transaction that sets the tenant and runs the same log insert
 * and rollup statement as the runtime role with RLS on, answering how many were new. No token, no
 * validation beyond parsing, no per-event fate checks, no framework.
 */
export async function startBareIngestServer(runtimeUrl: string, poolMax: number): Promise<{ url: string; close(): Promise<void> }> {
  const pool = new Pool({ connectionString: runtimeUrl, max: poolMax });
  const answer = (response: ServerResponse, status: number, body?: unknown) =>
    response.writeHead(status, { 'content-type': 'application/json' }).end(body === undefined ? '' : JSON.stringify(body));
  const server: Server = createServer((request, response) => {
    const tenant = String(request.headers['x-tenant'] ?? '');
    if (!UUID.test(tenant) || request.method !== 'POST') return answer(response, 400);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let events: Event[];
      try {
        events = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: Event[] }).events;
      } catch {
        return answer(response, 400);
      }
      const rows = [...new Map(events.map((e) => [rowId(tenant, e.id), e])).entries()].sort(([a], [b]) => (a < b ? -1 : 1));
      void (async () => {
        const client = await pool.connect();
        try {
          await client.query(`BEGIN; SELECT set_config('app.tenant_id', '${tenant}', true)`);
          const inserted = await client.query(WRITE, [
            tenant,
            rows.map(([id]) => id),
            rows.map(([, e]) => e.id),
            rows.map(([, e]) => e.type),
            rows.map(([, e]) => e.source),
            rows.map(([, e]) => e.time),
            rows.map(([, e]) => e.data.seconds),
            rows.map(([, e]) => JSON.stringify(e.data)),
          ]);
          await client.query('COMMIT');
          answer(response, 200, { accepted: inserted.rowCount, duplicates: events.length - (inserted.rowCount ?? 0) });
        } catch {
          await client.query('ROLLBACK').catch(() => undefined);
          answer(response, 503);
        } finally {
          client.release();
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await pool.end();
    },
  };
}

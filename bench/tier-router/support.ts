import { MigrationFile, migrationsOf, MigrationSource, quoteIdent } from '@bulkhead/database';
import { Client } from 'pg';

/** The p-th percentile (0-100) of unsorted samples, nearest rank. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Runs `work` over `items` with at most `lanes` in flight; the first failure rejects. */
export async function inLanes<T, R>(items: T[], lanes: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(lanes, items.length)) }, async () => {
      for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i], i);
    }),
  );
  return results;
}

export function seconds(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}

/**
 * Seeds 20 customers and `orders` orders of one tenant into the customers/orders tables of
 * `schema` on a superuser connection (RLS does not bind a superuser), and returns up to 200 order
 * ids in random order.
 */
export async function seedOrders(client: Client, schema: string, tenantId: string, orders: number): Promise<string[]> {
  const q = `${quoteIdent(schema)}.`;
  await client.query(
    `INSERT INTO ${q}customers (tenant_id, id, email, name)
       SELECT $1, gen_random_uuid(), 'c' || g || '@bench.test', 'Customer ' || g FROM generate_series(1, 20) g`,
    [tenantId],
  );
  await client.query(
    `INSERT INTO ${q}orders (tenant_id, id, customer_id, status, total_cents, currency)
       SELECT $1, gen_random_uuid(), c.id, 'paid', (random() * 10000)::int, 'EUR'
         FROM generate_series(1, $2::int) g
         CROSS JOIN LATERAL (SELECT id FROM ${q}customers WHERE tenant_id = $1 OFFSET (g % 20) LIMIT 1) c`,
    [tenantId, orders],
  );
  await client.query(`ANALYZE ${q}customers`);
  await client.query(`ANALYZE ${q}orders`);
  const rows = await client.query<{ id: string }>(`SELECT id FROM ${q}orders WHERE tenant_id = $1 ORDER BY random() LIMIT 200`, [tenantId]);
  return rows.rows.map((row) => row.id);
}

/** How to take the latest tenant migration back out of a placement, as if it had never run. */
export interface LatestMigrationUndo {
  migration: MigrationFile;
  /** Statements to run with the placement's schema qualifier, e.g. `"t_..."` or `public`. */
  statements(schema: string): string[];
  /** Statements this scenario cannot undo generically; when non-empty the fleet run is skipped. */
  unsupported: string[];
  /** Human-readable list of what is dropped. */
  objects: string[];
}

const IDENT = '([a-z_][a-z0-9_]*)';

/**
 * Reads the last tenant migration (of the last owner) and works out what it created (tables, views,
 * indexes, functions, types), so the fleet benchmark can drop exactly that and delete the ledger
 * row, leaving real work for FleetMigrator. Statements that change objects the migration did not
 * create (ALTER, INSERT, UPDATE, DELETE, DROP, TRUNCATE on older tables) cannot be undone
 * generically and are reported instead.
 */
export function latestMigrationUndo(sources: readonly MigrationSource[]): LatestMigrationUndo {
  const migrations = migrationsOf(sources, 'tenant');
  const migration = migrations[migrations.length - 1];
  const sql = migration.sql
    .replace(/--[^\n]*/g, '')
    .replace(/\$\$[\s\S]*?\$\$/g, '$$$$')
    .toLowerCase();
  const statements = sql
    .split(';')
    .map((statement) => statement.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
  const tables: string[] = [];
  const views: string[] = [];
  const indexes: string[] = [];
  const functions: string[] = [];
  const types: string[] = [];
  const unsupported: string[] = [];
  const patterns: Array<[RegExp, string[]]> = [
    [new RegExp(`^create (?:unlogged )?table (?:if not exists )?${IDENT}`), tables],
    [new RegExp(`^create (?:or replace )?(?:materialized )?view (?:if not exists )?${IDENT}`), views],
    [new RegExp(`^create (?:unique )?index (?:concurrently )?(?:if not exists )?${IDENT}`), indexes],
    [new RegExp(`^create (?:or replace )?function ${IDENT}`), functions],
    [new RegExp(`^create type ${IDENT}`), types],
  ];
  for (const statement of statements) {
    const hit = patterns.find(([pattern]) => pattern.test(statement));
    if (hit) {
      hit[1].push((hit[0].exec(statement) as RegExpExecArray)[1]);
      continue;
    }
    const target = new RegExp(`^(?:alter table (?:if exists )?(?:only )?|insert into |update (?:only )?|delete from |truncate (?:table )?|drop \\w+ (?:if exists )?)${IDENT}`).exec(statement);
    if (target && !tables.includes(target[1]) && !views.includes(target[1])) unsupported.push(statement.slice(0, 120));
  }
  return {
    migration,
    unsupported,
    objects: [...tables.map((t) => `table ${t}`), ...views.map((v) => `view ${v}`), ...indexes.map((i) => `index ${i}`), ...functions.map((f) => `function ${f}`), ...types.map((t) => `type ${t}`)],
    statements: (schema) => {
      const q = (name: string) => `${schema}.${quoteIdent(name)}`;
      const out: string[] = [];
      if (views.length) out.push(`DROP VIEW IF EXISTS ${[...views].reverse().map(q).join(', ')} CASCADE`);
      if (tables.length) out.push(`DROP TABLE IF EXISTS ${[...tables].reverse().map(q).join(', ')} CASCADE`);
      for (const index of indexes) out.push(`DROP INDEX IF EXISTS ${q(index)}`);
      for (const fn of functions) out.push(`DROP FUNCTION IF EXISTS ${q(fn)} CASCADE`);
      for (const type of types) out.push(`DROP TYPE IF EXISTS ${q(type)} CASCADE`);
      return out;
    },
  };
}

/**
 * The engine behind one database: plain PostgreSQL, or a Citus coordinator (the `citus`
 * extension is installed in it). Detected, not configured: on one Citus cluster the pool database
 * is a coordinator while each silo database created on it is plain PostgreSQL, and a setting
 * could not tell them apart. Everything that differs between the two (how migrations lay out
 * tenant tables, how a transaction sets its tenant) branches on this one answer.
 */
export type DatabaseEngine = 'postgres' | 'citus';

interface Queryable {
  query(text: string): Promise<{ rows: Array<Record<string, unknown>> }>;
}

export async function detectDatabaseEngine(client: Queryable): Promise<DatabaseEngine> {
  const { rows } = await client.query("SELECT exists(SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus");
  return rows[0]?.citus === true ? 'citus' : 'postgres';
}

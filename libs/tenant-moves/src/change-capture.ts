import { placementFenceLockSql } from '@bulkhead/control-plane';
import { isLockTimeout, quoteIdent } from '@bulkhead/database';
import { OwnerSession } from './owner-session';
import { qualified, TenantTable } from './tenant-tables';

/**
 * Trigger-based change capture beside the source data, in schema `bulkhead_move` of the source
 * database: `changes` logs the primary key of every row of the moved tenant written since capture
 * began (the catch-up re-reads the row by that key), `fences` holds the move's durable state there
 * (`capturing`, then `moved` once the tenant left: from then on the old placement is read-only).
 *
 * The trigger is also the write fence. Every write of the tenant takes a shared advisory lock of
 * the tenant (held to its commit); the mover fences by taking that lock exclusively, so it waits
 * for the tenant's writes in flight. A new write does not queue behind it in the database: it
 * would hold a pooled connection the whole time, and with a write rate of 100/s a 400 ms fence
 * takes every connection of a shared pool, so other tenants' reads waited for the fence too
 * (measured: 450 ms). It is refused at once instead (SQLSTATE BHM02, rolled back untouched), and
 * @bulkhead/tenancy runs it again a moment later, so the tenant's writes still wait, they do not
 * fail, holding no connection (reads take no lock and keep flowing). Other tenants' rows never reach the function: the
 * triggers' WHEN clauses name the tenant. A write that gets the lock after the switch finds the
 * fence `moved` and is refused with SQLSTATE BHM01, untouched: @bulkhead/tenancy re-runs it on
 * the new placement. A REPEATABLE READ writer cannot trust its older snapshot of the fence, so it
 * locks the fence row, which fails if the row changed since its snapshot: also BHM01.
 */
const CAPTURE_SCHEMA = `
  CREATE SCHEMA IF NOT EXISTS bulkhead_move;
  REVOKE ALL ON SCHEMA bulkhead_move FROM PUBLIC;
  CREATE TABLE IF NOT EXISTS bulkhead_move.fences (
    tenant  uuid PRIMARY KEY,
    move_id uuid NOT NULL,
    state   text NOT NULL CHECK (state IN ('capturing', 'moved'))
  );
  CREATE TABLE IF NOT EXISTS bulkhead_move.changes (
    seq    bigserial PRIMARY KEY,
    tenant uuid  NOT NULL,
    tbl    text  NOT NULL,
    pk     jsonb NOT NULL
  );
  CREATE INDEX IF NOT EXISTS changes_tenant_seq ON bulkhead_move.changes (tenant, seq);
  CREATE OR REPLACE FUNCTION bulkhead_move.capture() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  DECLARE
    moved_tenant uuid := TG_ARGV[0]::uuid;
    fence   text;
    old_key jsonb;
    new_key jsonb;
  BEGIN
    IF NOT pg_try_advisory_xact_lock_shared(${placementFenceLockSql('TG_ARGV[0]')}) THEN
      RAISE EXCEPTION 'tenant % is fenced for a move', moved_tenant USING ERRCODE = 'BHM02';
    END IF;
    IF current_setting('transaction_isolation') = 'read committed' THEN
      SELECT f.state INTO fence FROM bulkhead_move.fences f WHERE f.tenant = moved_tenant;
    ELSE
      BEGIN
        SELECT f.state INTO fence FROM bulkhead_move.fences f WHERE f.tenant = moved_tenant FOR SHARE;
      EXCEPTION WHEN serialization_failure THEN
        fence := 'moved';
      END;
    END IF;
    IF fence = 'moved' THEN
      RAISE EXCEPTION 'tenant % has moved to another placement', moved_tenant USING ERRCODE = 'BHM01';
    END IF;
    IF TG_OP <> 'INSERT' THEN
      SELECT jsonb_object_agg(k, to_jsonb(OLD) -> k) INTO old_key FROM unnest(TG_ARGV[1:]) AS k;
    END IF;
    IF TG_OP <> 'DELETE' THEN
      SELECT jsonb_object_agg(k, to_jsonb(NEW) -> k) INTO new_key FROM unnest(TG_ARGV[1:]) AS k;
    END IF;
    INSERT INTO bulkhead_move.changes (tenant, tbl, pk) VALUES (moved_tenant, TG_TABLE_NAME, coalesce(new_key, old_key));
    IF old_key IS NOT NULL AND new_key IS NOT NULL AND old_key <> new_key THEN
      INSERT INTO bulkhead_move.changes (tenant, tbl, pk) VALUES (moved_tenant, TG_TABLE_NAME, old_key);
    END IF;
    RETURN NULL;
  END;
  $$;
  REVOKE ALL ON FUNCTION bulkhead_move.capture() FROM PUBLIC;
`;

export type FenceState = 'capturing' | 'moved' | null;

function triggerName(tenantId: string, op: 'i' | 'u' | 'd'): string {
  return `bulkhead_move_${tenantId.replace(/-/g, '')}_${op}`;
}

function fenceKey(tenantId: string): string {
  return placementFenceLockSql(`'${tenantId}'`);
}

/** DDL on tables other tenants write: a short lock timeout, retried, so nobody queues behind it for long. */
async function briefDdl(session: OwnerSession, statements: string[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await session.query(`START TRANSACTION; SET LOCAL lock_timeout = '500ms'; ${statements.join('; ')}; COMMIT`);
      return;
    } catch (error) {
      await session.query('ROLLBACK').catch(() => undefined);
      if (!isLockTimeout(error) || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
    }
  }
}

/** Creates the capture schema in the source database (idempotent; serialised between movers). */
export async function installCaptureSchema(session: OwnerSession): Promise<void> {
  await session.query(`START TRANSACTION; SELECT pg_advisory_xact_lock(hashtextextended('bulkhead-move-install', 0)); ${CAPTURE_SCHEMA}; COMMIT`).catch(async (error) => {
    await session.query('ROLLBACK').catch(() => undefined);
    throw error;
  });
}

/** Starts capturing the tenant's writes on every table of its source placement; idempotent. */
export async function installTriggers(session: OwnerSession, schema: string, tables: TenantTable[], moveId: string): Promise<void> {
  const tenant = session.tenantId;
  await session.query(
    `INSERT INTO bulkhead_move.fences (tenant, move_id, state) VALUES ($1, $2, 'capturing')
     ON CONFLICT (tenant) DO UPDATE SET move_id = EXCLUDED.move_id, state = 'capturing'`,
    [tenant, moveId],
  );
  for (const table of tables) {
    const args = [tenant, ...table.key].map((value) => `'${value.replace(/'/g, "''")}'`).join(', ');
    const on = qualified(schema, table.name);
    await briefDdl(session, [
      `CREATE OR REPLACE TRIGGER ${triggerName(tenant, 'i')} AFTER INSERT ON ${on} FOR EACH ROW WHEN (NEW.tenant_id = '${tenant}') EXECUTE FUNCTION bulkhead_move.capture(${args})`,
      `CREATE OR REPLACE TRIGGER ${triggerName(tenant, 'u')} AFTER UPDATE ON ${on} FOR EACH ROW WHEN (OLD.tenant_id = '${tenant}' OR NEW.tenant_id = '${tenant}') EXECUTE FUNCTION bulkhead_move.capture(${args})`,
      `CREATE OR REPLACE TRIGGER ${triggerName(tenant, 'd')} AFTER DELETE ON ${on} FOR EACH ROW WHEN (OLD.tenant_id = '${tenant}') EXECUTE FUNCTION bulkhead_move.capture(${args})`,
    ]);
  }
}

/** Stops capturing and forgets the fence and the log (abort, or the source's drop). */
export async function removeCapture(session: OwnerSession, schema: string, tables: TenantTable[]): Promise<void> {
  const tenant = session.tenantId;
  for (const table of tables) {
    const on = qualified(schema, table.name);
    await briefDdl(session, (['i', 'u', 'd'] as const).map((op) => `DROP TRIGGER IF EXISTS ${quoteIdent(triggerName(tenant, op))} ON ${on}`));
  }
  const present = await session.query<{ present: boolean }>("SELECT to_regclass('bulkhead_move.fences') IS NOT NULL AS present");
  if (present[0]?.present) {
    await session.query('DELETE FROM bulkhead_move.changes WHERE tenant = $1', [tenant]);
    await session.query('DELETE FROM bulkhead_move.fences WHERE tenant = $1', [tenant]);
  }
}

export async function fenceState(session: OwnerSession): Promise<FenceState> {
  const present = await session.query<{ present: boolean }>("SELECT to_regclass('bulkhead_move.fences') IS NOT NULL AS present");
  if (!present[0]?.present) return null;
  const rows = await session.query<{ state: FenceState }>('SELECT state FROM bulkhead_move.fences WHERE tenant = $1', [session.tenantId]);
  return rows[0]?.state ?? null;
}

/** Marks the source left behind: from this commit on, every write of the tenant there is refused (BHM01). */
export async function markMoved(session: OwnerSession, moveId: string): Promise<void> {
  const rows = await session.query("UPDATE bulkhead_move.fences SET state = 'moved' WHERE tenant = $1 AND move_id = $2 RETURNING 1", [session.tenantId, moveId]);
  if (rows.length !== 1) throw new Error('the source fence belongs to another move');
}

/**
 * Raises the write fence: waits up to `timeoutMs` for the tenant's writes in flight to commit,
 * while new ones queue behind. False (and nothing held) when they did not finish in time.
 */
export async function raiseFence(session: OwnerSession, timeoutMs: number): Promise<boolean> {
  await session.query(`SET lock_timeout = ${Math.round(timeoutMs)}`);
  try {
    await session.query(`SELECT pg_advisory_lock(${fenceKey(session.tenantId)})`);
    return true;
  } catch (error) {
    if (isLockTimeout(error)) return false;
    throw error;
  } finally {
    await session.query('RESET lock_timeout').catch(() => undefined);
  }
}

export async function lowerFence(session: OwnerSession): Promise<void> {
  await session.query(`SELECT pg_advisory_unlock(${fenceKey(session.tenantId)})`);
}

/** Changes captured and not yet applied to the target. */
export async function backlog(session: OwnerSession): Promise<number> {
  const rows = await session.query<{ n: number }>('SELECT count(*)::int AS n FROM bulkhead_move.changes WHERE tenant = $1', [session.tenantId]);
  return rows[0]?.n ?? 0;
}

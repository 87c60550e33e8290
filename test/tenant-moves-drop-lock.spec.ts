import { connectPg, quoteIdent } from '@bulkhead/database';
import { TenantMover } from '@bulkhead/tenant-moves';
import { Client } from 'pg';
import { TenantWriter } from './support/move-load';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';
import { eventually } from './support/test-worker';

/**
 * A unit of work that outlived the grace period still reads the old source schema when the move
 * drops it. A DROP SCHEMA waiting for its lock would queue every later query on those tables
 * behind its own AccessExclusive request: the drop must step back instead, and finish once the
 * straggler is gone.
 */
describe('tenant moves: dropping a source schema someone still reads', () => {
  let api: TestApi;
  let mover: TenantMover;

  beforeAll(async () => {
    api = await startTestApi({ MOVES_GRACE_MS: '300', MOVES_BATCH_ROWS: '40' });
    mover = api.app.get(TenantMover);
  });
  afterAll(() => api.close());

  it('never makes the tables\' other readers wait behind it, and completes once the straggler lets go', async () => {
    const tenant = await createTenant(api, { isolation: 'schema', tier: 'pro' });
    await new TenantWriter(api.server, tokenFor(api, tenant), tenant.slug).seed(20);
    const table = `${quoteIdent(tenant.schemaName as string)}.customers`;

    // The straggler: a transaction that read the source and holds its AccessShare lock.
    const straggler = await connectPg(api.config.DATABASE_OWNER_URL, 'straggler');
    const reader = await connectPg(api.config.DATABASE_OWNER_URL, 'other-reader');
    let running: Promise<unknown> | undefined;
    let released = false;
    const release = async (client: Client) => {
      if (released) return;
      released = true;
      await client.query('COMMIT');
    };
    try {
      await straggler.query('BEGIN');
      await straggler.query(`SELECT count(*) FROM ${table}`);

      const requested = await mover.request(tenant.id, 'pool');
      running = mover.run(requested.id);
      // The drop has met the straggler's lock: either it waits in the lock queue (the stall) or it stepped back.
      await eventually(async () => {
        const move = await mover.current(tenant.id);
        if (move.phase !== 'dropping') return undefined;
        if ((move.progress.dropLockWaits ?? 0) >= 1) return true;
        const waiting = await reader.query("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'DROP SCHEMA%'");
        return waiting.rowCount ? true : undefined;
      }, 'the drop to meet the straggler\'s lock');

      // Other readers of the same table are not queued behind the drop. A generous statement
      // timeout turns a reader stuck behind the DROP's lock request into a failure, not a hang.
      await reader.query("SET statement_timeout = '5s'");
      for (let i = 0; i < 10; i++) {
        await expect(reader.query(`SELECT count(*) FROM ${table}`)).resolves.toBeDefined();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // A late write to the old source while the drop rests is refused by its fence (BHM01),
      // never committed only to be dropped with the schema.
      await reader.query('BEGIN');
      await reader.query("SELECT set_config('app.tenant_id', $1, true)", [tenant.id]);
      await expect(reader.query(`INSERT INTO ${table} (tenant_id, id, email, name) VALUES ($1, gen_random_uuid(), 'late@example.com', 'Late')`, [tenant.id])).rejects.toMatchObject({ code: 'BHM01' });
      await reader.query('ROLLBACK');
      // Nothing was dropped under the straggler, and the move waits, recording why.
      const present = await reader.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [tenant.schemaName]);
      expect(present.rowCount).toBe(1);
      expect(await mover.current(tenant.id)).toMatchObject({ phase: 'dropping', error: null, progress: { dropLockWaits: expect.any(Number) } });

      await release(straggler);
      expect(await running).toMatchObject({ phase: 'done', error: null });
      const gone = await reader.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [tenant.schemaName]);
      expect(gone.rowCount).toBe(0);
      expect(await api.admin.get(tenant.id)).toMatchObject({ isolation: 'pool' });
    } finally {
      await release(straggler).catch(() => undefined);
      await reader.query('ROLLBACK').catch(() => undefined);
      // The move finishes before the app closes under it, whatever the test found.
      await running?.catch(() => undefined);
      await Promise.all([straggler.end(), reader.end()]);
    }
  }, 60_000);
});

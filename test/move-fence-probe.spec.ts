import { loadConfig } from '@bulkhead/config';
import { placementFenceLockSql } from '@bulkhead/control-plane';
import { withPg } from '@bulkhead/database';
import { randomUUID } from 'node:crypto';

/**
 * The move fence's one lock, seen from both sides: the mover holds it exclusively by the tenant id
 * written into its SQL (as the capture trigger names it, from its text argument), and the probe a
 * fenced write waits on asks for it shared with the id bound as a parameter. If the two keys ever
 * differed, the probe would call every fence free.
 */
describe('move fence probe', () => {
  it('is refused while the mover holds the fence, and granted once it lets go', async () => {
    const config = loadConfig();
    const tenantId = randomUUID();
    const probe = `SELECT pg_try_advisory_xact_lock_shared(${placementFenceLockSql('$1')}) AS free`;
    await withPg(config.DATABASE_OWNER_URL, 'fence-test-mover', async (mover) => {
      await withPg(config.DATABASE_URL, 'fence-test-probe', async (runtime) => {
        expect((await runtime.query<{ free: boolean }>(probe, [tenantId])).rows[0].free).toBe(true);
        await mover.query(`SELECT pg_advisory_lock(${placementFenceLockSql(`'${tenantId}'`)})`);
        expect((await runtime.query<{ free: boolean }>(probe, [tenantId])).rows[0].free).toBe(false);
        // Another tenant's fence is another lock.
        expect((await runtime.query<{ free: boolean }>(probe, [randomUUID()])).rows[0].free).toBe(true);
        await mover.query(`SELECT pg_advisory_unlock(${placementFenceLockSql(`'${tenantId}'`)})`);
        expect((await runtime.query<{ free: boolean }>(probe, [tenantId])).rows[0].free).toBe(true);
      });
    });
  });
});

import { parsePgUrl, withDatabase, withPg } from '@bulkhead/database';
import { randomUUID } from 'node:crypto';
import { OwnerSession } from '../src/owner-session';
import { parityMismatches, parityOf, rowHashes } from '../src/row-sync';
import { tenantTables } from '../src/tenant-tables';

/** Parity as the mover checks it under the fence: two placements of the same tables, compared per table. */
describe('move parity', () => {
  const url = withDatabase(process.env.DATABASE_ADMIN_URL!, parsePgUrl(process.env.DATABASE_URL!).database);
  const suffix = randomUUID().replace(/-/g, '').slice(0, 12);
  const [left, right] = [`parity_a_${suffix}`, `parity_b_${suffix}`];
  const tenant = randomUUID();
  const other = randomUUID();
  const ids = [randomUUID(), randomUUID(), randomUUID()];

  const sql = (text: string) => withPg(url, 'parity-test', (client) => client.query(text));

  beforeEach(async () => {
    for (const schema of [left, right]) {
      await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema};
        CREATE TABLE ${schema}.items (tenant_id uuid, id uuid, amount numeric, at timestamptz, tags text[], PRIMARY KEY (tenant_id, id));
        CREATE TABLE ${schema}.notes (tenant_id uuid, id uuid, body json, PRIMARY KEY (tenant_id, id));
        INSERT INTO ${schema}.items VALUES
          ('${tenant}', '${ids[0]}', 1.50, '2026-11-27 10:00:00.123456+00', '{a,b}'),
          ('${tenant}', '${ids[1]}', 2, '2026-11-27 11:00:00+00', NULL),
          ('${tenant}', '${ids[2]}', 3, NULL, '{}'),
          ('${other}', '${ids[0]}', 9, now(), NULL);
        INSERT INTO ${schema}.notes VALUES ('${tenant}', '${ids[0]}', '{"k": [1, 2]}'), ('${other}', '${ids[1]}', '{}');`);
    }
  });
  afterAll(() => sql(`DROP SCHEMA IF EXISTS ${left} CASCADE; DROP SCHEMA IF EXISTS ${right} CASCADE`));

  async function mismatches(): Promise<string[]> {
    const session = await OwnerSession.open(url, tenant);
    try {
      const tables = await tenantTables(session, left);
      const hashes = await rowHashes(session, left, tables);
      expect(Object.fromEntries(hashes)).toEqual({ items: 'record', notes: 'text' });
      const [a, b] = [await parityOf(session, left, tables, hashes), await parityOf(session, right, tables, hashes)];
      expect(a.items.rows).toBe(3);
      return parityMismatches(a, b);
    } finally {
      await session.close();
    }
  }

  it('finds both placements equal when they hold the same rows, whatever other tenants hold', async () => {
    await sql(`UPDATE ${right}.items SET amount = 10 WHERE tenant_id = '${other}'; DELETE FROM ${right}.notes WHERE tenant_id = '${other}'`);
    expect(await mismatches()).toEqual([]);
  });

  it.each([
    ['a value changed', `UPDATE ${'$'}.items SET at = at + interval '1 microsecond' WHERE id = '$0'`],
    ['a row missing', `DELETE FROM ${'$'}.items WHERE id = '$2'`],
    ['a row extra', `INSERT INTO ${'$'}.items VALUES ('$t', gen_random_uuid(), 4, NULL, NULL)`],
    ['two rows swapping their values', `UPDATE ${'$'}.items SET amount = CASE WHEN id = '$1' THEN 3 ELSE 2 END WHERE id IN ('$1', '$2')`],
    ['an array element', `UPDATE ${'$'}.items SET tags = '{a,c}' WHERE id = '$0'`],
    ['a NULL where a value was', `UPDATE ${'$'}.items SET tags = NULL WHERE id = '$2'`],
  ])('tells %s in a table hashed row by row', async (_what, change) => {
    await sql(change.replace('$.', `${right}.`).replace(/\$0/g, ids[0]).replace(/\$1/g, ids[1]).replace(/\$2/g, ids[2]).replace(/\$t/g, tenant));
    expect(await mismatches()).toEqual(['items']);
  });

  it('tells a change in a table whose column type has no hash function (hashed as text)', async () => {
    await sql(`UPDATE ${right}.notes SET body = '{"k": [1, 3]}' WHERE tenant_id = '${tenant}'`);
    expect(await mismatches()).toEqual(['notes']);
  });
});

import { parsePgUrl, withDatabase, withPg } from '@bulkhead/database';
import { randomUUID } from 'node:crypto';
import { OwnerSession } from '../src/owner-session';
import { parityMismatches, parityOf, rowHashes } from '../src/row-sync';
import { tenantTables } from '../src/tenant-tables';

/** Parity as the mover checks it under the fence: two placements of the same tables, compared per table. */
describe('move parity', () => {
  const suffix = randomUUID().replace(/-/g, '').slice(0, 12);
  // A database of its own: these tables hold tenant_id but no RLS, and the doctor, checking the
  // shared test database from another suite at the same time, would rightly flag them there.
  const database = `${parsePgUrl(process.env.DATABASE_URL!).database}_parity_${suffix}`;
  const adminUrl = process.env.DATABASE_ADMIN_URL!;
  const url = withDatabase(adminUrl, database);
  const [left, right] = [`parity_a_${suffix}`, `parity_b_${suffix}`];
  const tenant = randomUUID();
  const other = randomUUID();
  const ids = [randomUUID(), randomUUID(), randomUUID()];

  const sql = (text: string) => withPg(url, 'parity-test', (client) => client.query(text));
  const fill = (text: string) => text.replace(/\$0/g, ids[0]).replace(/\$1/g, ids[1]).replace(/\$2/g, ids[2]).replace(/\$t/g, tenant).replace(/\$o/g, other);

  beforeEach(async () => {
    for (const schema of [left, right]) {
      // Each placement has its own copy of the enum type, as each schema or silo of a move does.
      await sql(
        fill(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema};
        CREATE TYPE ${schema}.mood AS ENUM ('calm', 'busy');
        CREATE TABLE ${schema}.plain (tenant_id uuid, id uuid, n bigint, at timestamptz, label text, code char(3), PRIMARY KEY (tenant_id, id));
        CREATE TABLE ${schema}.items (tenant_id uuid, id uuid, amount numeric, tags text[], mood ${schema}.mood, PRIMARY KEY (tenant_id, id));
        CREATE TABLE ${schema}.notes (tenant_id uuid, id uuid, body json, PRIMARY KEY (tenant_id, id));
        INSERT INTO ${schema}.plain VALUES
          ('$t', '$0', 1, '2026-11-27 10:00:00.123456+00', 'a', 'EUR'),
          ('$t', '$1', 2, '2026-11-27 11:00:00+00', NULL, 'USD'),
          ('$t', '$2', 3, NULL, 'c', NULL),
          ('$o', '$0', 9, now(), 'other', NULL);
        INSERT INTO ${schema}.items VALUES ('$t', '$0', 1.50, '{a,b}', 'busy'), ('$t', '$1', 2, NULL, 'calm'), ('$o', '$0', 7, '{}', NULL);
        INSERT INTO ${schema}.notes VALUES ('$t', '$0', '{"k": [1, 2]}'), ('$o', '$1', '{}');`),
      );
    }
  });
  beforeAll(() => withPg(adminUrl, 'parity-test', (admin) => admin.query(`CREATE DATABASE ${database}`)));
  afterAll(() => withPg(adminUrl, 'parity-test', (admin) => admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)));

  async function mismatches(): Promise<string[]> {
    const session = await OwnerSession.open(url, tenant);
    try {
      const tables = await tenantTables(session, left);
      const hashes = await rowHashes(session, left, tables);
      // Exact binary hashes where the type's hash says what its text says; the rest as text.
      expect(Object.fromEntries(hashes)).toEqual({ items: 'text', notes: 'text', plain: 'record' });
      const [a, b] = [await parityOf(session, left, tables, hashes), await parityOf(session, right, tables, hashes)];
      expect([a.plain.rows, a.items.rows, a.notes.rows]).toEqual([3, 2, 1]);
      return parityMismatches(a, b);
    } finally {
      await session.close();
    }
  }

  it('finds both placements equal when they hold the same rows (an enum of each its own), whatever other tenants hold', async () => {
    await sql(fill(`UPDATE ${right}.plain SET n = 10 WHERE tenant_id = '$o'; DELETE FROM ${right}.notes WHERE tenant_id = '$o'; UPDATE ${right}.items SET amount = 8 WHERE tenant_id = '$o'`));
    expect(await mismatches()).toEqual([]);
  });

  it.each([
    ['a value changed', `UPDATE $.plain SET at = at + interval '1 microsecond' WHERE id = '$0'`],
    ['a row missing', `DELETE FROM $.plain WHERE id = '$2'`],
    ['a row extra', `INSERT INTO $.plain VALUES ('$t', gen_random_uuid(), 4, NULL, NULL, NULL)`],
    ['two rows swapping their values', `UPDATE $.plain SET n = CASE WHEN id = '$1' THEN 3 ELSE 2 END WHERE id IN ('$1', '$2')`],
    ['a NULL where a value was', `UPDATE $.plain SET label = NULL WHERE id = '$2'`],
    ['a value in a NULL', `UPDATE $.plain SET label = '' WHERE id = '$1'`],
  ])('tells %s in a table hashed row by row', async (_what, change) => {
    await sql(fill(change.replace('$.', `${right}.`)));
    expect(await mismatches()).toEqual(['plain']);
  });

  it.each([
    ['a numeric scale', `UPDATE $.items SET amount = 1.500 WHERE id = '$0'`],
    ['an array element', `UPDATE $.items SET tags = '{a,c}' WHERE id = '$0'`],
    ['an enum value', `UPDATE $.items SET mood = 'calm' WHERE id = '$0'`],
  ])('tells %s in a table hashed as text', async (_what, change) => {
    await sql(fill(change.replace('$.', `${right}.`)));
    expect(await mismatches()).toEqual(['items']);
  });

  it('tells a change in a column whose type has no hash function at all', async () => {
    await sql(`UPDATE ${right}.notes SET body = '{"k": [1, 3]}' WHERE tenant_id = '${tenant}'`);
    expect(await mismatches()).toEqual(['notes']);
  });
});

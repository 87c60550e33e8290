import { loadConfig } from '@bulkhead/config';
import { bootstrapDatabase, migrateDatabase, parsePgUrl, quoteIdent, withDatabase, withPg } from '@bulkhead/database';
import { migrationSourcesFor } from '@bulkhead/tenancy';
import { createHash } from 'node:crypto';
import { DOMAINS } from '../apps/domains';

/** sales 0003 as it was first shipped (and applied): an unnamed check constraint, which Citus refuses. */
const SALES_0003_FIRST_TEXT = `-- Why an export failed for good, in words the tenant may read (never the internal error), so a
-- failed export says so instead of staying pending.
ALTER TABLE order_exports ADD COLUMN failure_reason text CHECK (char_length(failure_reason) <= 500);
`;
const FIRST_CHECKSUM = '57d1586c00552296ce58c67cf07fc1389ebe1abd3079b419eda071fc0fd5b6f5';

/**
 * A file rewritten to an equivalent text (`-- bulkhead:equivalent-to <sha256>`) is accepted where
 * the earlier text was applied, and only there: any other changed file is still refused.
 */
describe('migration files rewritten to an equivalent text', () => {
  const base = loadConfig();
  const database = `${parsePgUrl(base.DATABASE_URL).database.slice(0, 17)}_eq`;
  const urls = { adminUrl: base.DATABASE_ADMIN_URL, ownerUrl: withDatabase(base.DATABASE_OWNER_URL, database), runtimeUrl: withDatabase(base.DATABASE_URL, database) };
  const migrate = () => migrateDatabase({ ownerUrl: urls.ownerUrl, runtimeUrl: urls.runtimeUrl, sources: migrationSourcesFor(DOMAINS) });
  const recordSales3 = (checksum: string) =>
    withPg(urls.ownerUrl, 'test', (owner) => owner.query("UPDATE schema_migrations SET checksum = $1 WHERE target = 'pool' AND owner = 'sales' AND version = 3", [checksum]));

  beforeAll(async () => {
    await bootstrapDatabase(urls, { recreate: true });
    await migrate();
  });
  afterAll(() => withPg(base.DATABASE_ADMIN_URL, 'test', (admin) => admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`)));

  it('gives the constraint the very name PostgreSQL gave the first text', async () => {
    expect(createHash('sha256').update(SALES_0003_FIRST_TEXT).digest('hex')).toBe(FIRST_CHECKSUM);
    // The column the rewritten file adds, as its first text added it.
    const firstTexts = [{ table: 'order_exports', column: 'failure_reason', definition: 'text CHECK (char_length(failure_reason) <= 500)' }];
    for (const first of firstTexts) {
      const names = await withPg(urls.ownerUrl, 'test', async (owner) => {
        await owner.query('BEGIN');
        try {
          await owner.query(`CREATE TEMP TABLE ${first.table} (id int)`);
          await owner.query(`ALTER TABLE pg_temp.${first.table} ADD COLUMN ${first.column} ${first.definition}`);
          const { rows } = await owner.query<{ conname: string }>(
            "SELECT conname FROM pg_constraint WHERE conrelid IN (to_regclass('public.' || $1::text), to_regclass('pg_temp.' || $1::text)) AND contype = 'c' AND conname LIKE '%' || $2 || '%' ORDER BY conrelid",
            [first.table, first.column],
          );
          return rows.map((row) => row.conname);
        } finally {
          await owner.query('ROLLBACK');
        }
      });
      expect(names).toEqual([`${first.table}_${first.column}_check`, `${first.table}_${first.column}_check`]);
    }
  });

  it('accepts a ledger that recorded the first text, applying nothing again', async () => {
    await recordSales3(FIRST_CHECKSUM);
    const outcomes = await migrate();
    expect(outcomes.flatMap((outcome) => outcome.applied)).toEqual([]);
  });

  it('still refuses a ledger that recorded any other text', async () => {
    await recordSales3('0'.repeat(64));
    await expect(migrate()).rejects.toThrow(/sales\/3_export_failure_reason changed after it was applied/);
  });
});

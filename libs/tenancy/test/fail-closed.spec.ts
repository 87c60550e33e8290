import { loadConfig } from '@bulkhead/config';
import { DatabaseEngine, detectDatabaseEngine } from '@bulkhead/database';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { TenantContext } from '../src/context/tenant-context';
import { runWithTenant } from '../src/context/tenant-context.store';
import { TenantData } from '../src/data/tenant-data';
import { TenantQueryRunner } from '../src/data/tenant-query-runner';
import { tenantSettingSql } from '../src/data/tenant-setting';
import { TenantContextMissingError } from '../src/context/context.errors';
import { TenantBoundaryViolationError } from '../src/data/boundary.errors';
import { Account, anEmail, Harness, startHarness } from './tenancy-harness';

/** With no tenant set, the runtime role sees nothing and writes nothing, whatever it tries. */
describe('fail closed', () => {
  let harness: Harness;
  let data: TenantData;
  let a: TenantContext;
  let b: TenantContext;
  let runtime: Client;
  let engine: DatabaseEngine;

  beforeAll(async () => {
    harness = await startHarness();
    data = harness.context.get(TenantData);
    [a, b] = [await harness.newTenant(), await harness.newTenant()];
    for (const tenant of [a, b]) {
      await runWithTenant(tenant, () => data.transaction((tx) => tx.repository(Account).insert({ email: anEmail(), name: tenant.slug })));
    }
    runtime = new Client({ connectionString: loadConfig().DATABASE_URL });
    await runtime.connect();
    engine = await detectDatabaseEngine(runtime);
  });
  afterAll(async () => {
    await runtime.end();
    await harness.close();
  });

  // The engine's own transaction-local setting (set_config on PostgreSQL, bulkhead_set_tenant on Citus).
  const enter = (tenantId: string) => runtime.query(`SELECT ${tenantSettingSql(engine, { tenantId })}`);
  const setting = (value: string) => runtime.query("SELECT set_config('app.tenant_id', $1, false)", [value]);

  it('reads zero rows with no tenant set', async () => {
    const { rows } = await runtime.query('SELECT count(*)::int AS n FROM customers');
    expect(rows[0].n).toBe(0);
  });

  it('reads zero rows with the setting left empty (as after an earlier SET LOCAL)', async () => {
    await setting('');
    const { rows } = await runtime.query('SELECT count(*)::int AS n FROM customers');
    expect(rows[0].n).toBe(0);
  });

  it('refuses an insert with no tenant set, and one naming another tenant', async () => {
    await expect(runtime.query('INSERT INTO customers (tenant_id, id, email, name) VALUES ($1, $2, $3, $4)', [a.tenantId, uuidv7(), anEmail(), 'x'])).rejects.toMatchObject({
      code: '42501',
    });
    await runtime.query('BEGIN');
    try {
      await enter(a.tenantId);
      await expect(runtime.query('INSERT INTO customers (tenant_id, id, email, name) VALUES ($1, $2, $3, $4)', [b.tenantId, uuidv7(), anEmail(), 'x'])).rejects.toMatchObject({
        code: '42501',
      });
    } finally {
      await runtime.query('ROLLBACK');
    }
  });

  it('cannot update, delete or re-tenant another tenant’s rows even without a predicate', async () => {
    await runtime.query('BEGIN');
    try {
      await enter(a.tenantId);
      expect((await runtime.query("UPDATE customers SET name = 'pwned'")).rowCount).toBe(1);
      // Citus refuses any change of the distribution column before RLS is even asked.
      await expect(runtime.query('UPDATE customers SET tenant_id = $1', [b.tenantId])).rejects.toMatchObject({ code: engine === 'citus' ? '0A000' : '42501' });
    } finally {
      await runtime.query('ROLLBACK');
    }
    await runtime.query('BEGIN');
    try {
      await enter(a.tenantId);
      expect((await runtime.query('DELETE FROM customers')).rowCount).toBe(1);
    } finally {
      await runtime.query('ROLLBACK');
    }
    const rows = await runWithTenant(b, () => data.transaction((tx) => tx.repository(Account).findPage({ limit: 10 })));
    expect(rows.map((row) => row.name)).toEqual([b.slug]);
  });

  it('cannot switch RLS off, turn row_security off, or create objects', async () => {
    await expect(runtime.query('ALTER TABLE customers DISABLE ROW LEVEL SECURITY')).rejects.toMatchObject({ code: '42501' });
    await expect(runtime.query('ALTER TABLE customers NO FORCE ROW LEVEL SECURITY')).rejects.toMatchObject({ code: '42501' });
    await expect(runtime.query('DROP POLICY customers_tenant_select ON customers')).rejects.toMatchObject({ code: '42501' });
    await expect(runtime.query('CREATE TABLE sneaky (id int)')).rejects.toMatchObject({ code: '42501' });
    await runtime.query('SET row_security = off');
    try {
      await expect(runtime.query('SELECT * FROM customers')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await runtime.query('RESET row_security');
    }
  });

  it('the data-access API throws before touching the database when there is no tenant context', async () => {
    await expect(data.transaction((tx) => tx.repository(Account).findPage({ limit: 10 }))).rejects.toBeInstanceOf(TenantContextMissingError);
  });

  it('the subscriber refuses a save that names another tenant, and one outside a tenant transaction', async () => {
    await runWithTenant(a, async () => {
      const runner = TenantQueryRunner.create(harness.dataSource, { tenantId: a.tenantId });
      try {
        await runner.startTransaction();
        await expect(runner.manager.save(Account, { tenantId: b.tenantId, id: uuidv7(), email: anEmail(), name: 'x' })).rejects.toBeInstanceOf(
          TenantBoundaryViolationError,
        );
        await runner.rollbackTransaction();
      } finally {
        await runner.release();
      }
      await expect(harness.dataSource.manager.save(Account, { email: anEmail(), name: 'no transaction' })).rejects.toBeInstanceOf(
        TenantBoundaryViolationError,
      );
    });
  });

  it('the scoped repository refuses a caller-supplied tenant in values, filters and patches', async () => {
    await runWithTenant(a, () =>
      data.transaction(async (tx) => {
        const repo = tx.repository(Account);
        const hostile = { tenantId: b.tenantId } as never;
        await expect(repo.insert({ email: anEmail(), name: 'x', ...(hostile as object) })).rejects.toBeInstanceOf(TenantBoundaryViolationError);
        await expect(repo.findOneBy(hostile)).rejects.toBeInstanceOf(TenantBoundaryViolationError);
        await expect(repo.update(a.tenantId, hostile)).rejects.toBeInstanceOf(TenantBoundaryViolationError);
      }),
    );
  });

  it('an aggregate cannot be widened past the tenant, and an undefined filter value throws instead of matching all', async () => {
    await runWithTenant(a, () =>
      data.transaction(async (tx) => {
        const rows = await tx
          .repository(Account)
          .aggregate<{ tenant_id: string }>((query) => query.select('e.tenant_id', 'tenant_id').where('1 = 1 OR e.tenant_id IS NOT NULL').orWhere('true'));
        expect(rows.map((row) => row.tenant_id)).toEqual([a.tenantId]);
        await expect(tx.repository(Account).findById(undefined as unknown as string)).rejects.toThrow();
        await expect(tx.repository(Account).deleteWhere({ id: undefined } as never)).rejects.toThrow();
      }),
    );
    await expect(runWithTenant(a, () => data.read(Account).findById(undefined as unknown as string))).rejects.toThrow();
  });

  it('refuses hostile values before they can reach the inlined SET', () => {
    expect(() => TenantQueryRunner.create(harness.dataSource, { tenantId: "x', true); DROP TABLE customers; --" })).toThrow(TenantBoundaryViolationError);
    expect(() => TenantQueryRunner.create(harness.dataSource, { tenantId: a.tenantId, searchPath: '"t"; DROP TABLE x' })).toThrow(TenantBoundaryViolationError);
  });
});

import { IsolationModel } from '@bulkhead/config';
import { OverloadedProblem } from '@bulkhead/control-plane';
import { TenantContextMissingError } from '../src/context/context.errors';
import { TenantBoundaryViolationError } from '../src/data/boundary.errors';
import { runWithTenant } from '../src/context/tenant-context.store';
import { TenantData } from '../src/data/tenant-data';
import { TenantContext } from '../src/context/tenant-context';
import { Account, anEmail, Harness, startHarness } from './tenancy-harness';

class DeliberateRollback extends Error {}

/**
 * Thousands of interleaved units of work from many tenants over a pool of one and of two
 * connections, a third of them failing and rolling back. Every read sees only its own tenant's
 * rows, each tenant ends with exactly the rows it committed, and a connection handed back to the
 * pool carries no tenant.
 */
const CASES: Array<[number, IsolationModel]> = [
  [1, 'pool'],
  [2, 'pool'],
  [1, 'schema'],
  [2, 'schema'],
];

/** Same for schema tenants, whose transactions also pin search_path to the tenant schema. */
describe.each(CASES)('pool bleed with a pool of %i connection(s), %s tenants', (poolMax, model) => {
  let harness: Harness;
  let data: TenantData;
  let tenants: TenantContext[];

  beforeAll(async () => {
    harness = await startHarness({ DATABASE_POOL_MAX: String(poolMax) });
    data = harness.context.get(TenantData);
    tenants = [];
    for (let i = 0; i < 12; i++) tenants.push(await harness.newTenant(model));
  });
  afterAll(() => harness.close());

  it('keeps every tenant to its own rows under concurrency and failure', async () => {
    const committed = new Map<string, Set<string>>(tenants.map((t) => [t.tenantId, new Set<string>()]));
    const leaks: string[] = [];
    let reads = 0;
    let shed = 0;
    const operations = 2400;

    const operation = (i: number) => {
      const tenant = tenants[(i * 7) % tenants.length];
      return runWithTenant(tenant, async () => {
        const kind = i % 6;
        try {
          if (kind === 0 || kind === 1) {
            const row = await data.transaction((tx) => tx.repository(Account).insert({ email: anEmail(), name: `n${i}` }));
            committed.get(tenant.tenantId)?.add(row.id);
          } else if (kind === 2) {
            await data.transaction(async (tx) => {
              await tx.repository(Account).insert({ email: anEmail(), name: 'rolled back' });
              throw new DeliberateRollback();
            });
          } else if (kind === 3) {
            const email = anEmail();
            await data.transaction(async (tx) => {
              await tx.repository(Account).insert({ email, name: 'first' });
              await tx.repository(Account).insert({ email, name: 'duplicate' });
            });
          } else {
            const page =
              kind === 4
                ? await data.transaction((tx) => tx.repository(Account).findPage({ limit: 1000 }), { readOnly: true })
                : await data.read(Account).findPage({ limit: 1000 });
            reads++;
            for (const row of page) if (row.tenantId !== tenant.tenantId) leaks.push(`${tenant.tenantId} saw ${row.tenantId}`);
          }
        } catch (error) {
          if (error instanceof DeliberateRollback) return;
          // Reads are non-critical: with hundreds queued on one or two connections, some are shed.
          if (kind >= 4 && error instanceof OverloadedProblem) {
            shed++;
            return;
          }
          if (kind === 3 && (error as { driverError?: { code?: string } }).driverError?.code === '23505') return;
          throw error;
        }
      });
    };
    // 300 units of work in flight at once: deep enough to interleave every tenant on each
    // connection, shallow enough that none waits out the pool's connection timeout.
    let next = 0;
    const lanes = Array.from({ length: 300 }, async () => {
      while (next < operations) await operation(next++);
    });
    await Promise.all(lanes);

    expect(leaks).toEqual([]);
    expect(reads).toBeGreaterThan(0);
    expect(reads + shed).toBe(operations / 3);
    for (const tenant of tenants) {
      const rows = await runWithTenant(tenant, () => data.transaction((tx) => tx.repository(Account).findPage({ limit: 10_000 })));
      expect(new Set(rows.map((row) => row.id))).toEqual(committed.get(tenant.tenantId));
      expect(rows.every((row) => row.tenantId === tenant.tenantId)).toBe(true);
      expect(rows.some((row) => row.name === 'rolled back' || row.name === 'first')).toBe(false);
    }
  });

  it('hands back connections that carry no tenant and see no rows', async () => {
    const runners = Array.from({ length: poolMax }, () => harness.dataSource.createQueryRunner());
    try {
      await Promise.all(runners.map((runner) => runner.connect()));
      for (const runner of runners) {
        const [state] = await runner.query(
          "SELECT nullif(current_setting('app.tenant_id', true), '') AS tenant, current_setting('search_path') AS path, (SELECT count(*) FROM customers)::int AS visible",
        );
        // No tenant and no tenant schema survive on a connection handed back to the pool.
        expect(state).toEqual({ tenant: null, path: '"$user", public', visible: 0 });
      }
    } finally {
      await Promise.all(runners.map((runner) => runner.release()));
    }
  });

  it('refuses a transaction object carried into another tenant’s context', async () => {
    const [a, b] = tenants;
    await expect(
      runWithTenant(a, () =>
        data.transaction(async (tx) => {
          await runWithTenant(b, () => tx.repository(Account).insert({ email: anEmail(), name: 'smuggled' }));
        }),
      ),
    ).rejects.toBeInstanceOf(TenantBoundaryViolationError);
  });
});

describe('one-round-trip reads', () => {
  let harness: Harness;
  let data: TenantData;

  beforeAll(async () => {
    harness = await startHarness({ DATABASE_POOL_MAX: '1' });
    data = harness.context.get(TenantData);
  });
  afterAll(() => harness.close());

  it('see exactly what a transaction sees, and leave nothing set on the connection', async () => {
    const [a, b] = [await harness.newTenant(), await harness.newTenant()];
    const hostile = "O'Hara \\'; SELECT 1; --";
    await runWithTenant(a, () => data.transaction((tx) => tx.repository(Account).insert({ email: anEmail(), name: hostile })));
    await runWithTenant(b, () => data.transaction((tx) => tx.repository(Account).insert({ email: anEmail(), name: 'b' })));

    const viaReader = await runWithTenant(a, () => data.read(Account).findPage({ limit: 10 }));
    const viaTransaction = await runWithTenant(a, () => data.transaction((tx) => tx.repository(Account).findPage({ limit: 10 })));
    expect(viaReader).toEqual(viaTransaction);
    expect(viaReader.map((row) => row.name)).toEqual([hostile]);
    expect(await runWithTenant(a, () => data.read(Account).findOneBy({ name: hostile }))).toMatchObject({ name: hostile, tenantId: a.tenantId });
    expect(await runWithTenant(b, () => data.read(Account).findById(viaReader[0].id))).toBeNull();

    const [state] = await harness.dataSource.query("SELECT nullif(current_setting('app.tenant_id', true), '') AS tenant");
    expect(state.tenant).toBeNull();
  });

  it('a failing read leaves the connection clean and usable', async () => {
    const a = await harness.newTenant();
    await expect(runWithTenant(a, () => data.read(Account).findById('not-a-uuid'))).rejects.toMatchObject({ code: '22P02' });
    const [state] = await harness.dataSource.query("SELECT nullif(current_setting('app.tenant_id', true), '') AS tenant, (SELECT count(*) FROM customers)::int AS visible");
    expect(state).toEqual({ tenant: null, visible: 0 });
  });

  it('throws before touching the database when there is no tenant context', () => {
    expect(() => data.read(Account)).toThrow(TenantContextMissingError);
  });
});

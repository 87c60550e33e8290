import { loadConfig } from '@bulkhead/config';
import { withPg } from '@bulkhead/database';
import { TenantContext } from '../src/context/tenant-context';
import { runWithTenant } from '../src/context/tenant-context.store';
import { TenantBoundaryViolationError } from '../src/data/boundary.errors';
import { TenantData } from '../src/data/tenant-data';
import { Account, anEmail, Harness, startHarness } from './tenancy-harness';

/** `TenantData.transactionScope`: one transaction every `transaction` and `read` inside joins. */
describe('transaction scope', () => {
  let harness: Harness;
  let data: TenantData;
  let a: TenantContext;
  let b: TenantContext;

  // One connection per tenant at a time: a joined read or write that took its own would wait for
  // the scope's slot until the gate gave up (503).
  beforeAll(async () => {
    harness = await startHarness({ TENANT_MAX_CONNECTIONS: '1' });
    data = harness.context.get(TenantData);
    [a, b] = [await harness.newTenant(), await harness.newTenant()];
  });
  afterAll(() => harness.close());

  const as = <T>(tenant: TenantContext, work: () => Promise<T>) => runWithTenant(tenant, work);
  /** The same tenant's rows seen from another connection (runtime role, tenant set), outside the scope. */
  const outsideRead = (tenant: TenantContext, email: string) =>
    withPg(loadConfig().DATABASE_URL, 'scope-test', async (client) => {
      const [, , result] = (await client.query(`BEGIN; SELECT set_config('app.tenant_id', '${tenant.tenantId}', true); SELECT count(*)::int AS n FROM customers WHERE email = '${email}'`)) as unknown as Array<{ rows: Array<{ n: number }> }>;
      await client.query('COMMIT');
      return result.rows[0].n;
    });
  const find = (tenant: TenantContext, email: string) => as(tenant, () => data.read(Account).findOneBy({ email }));

  it('commits joined writes with the scope, reads them inside it on the same connection, and hides them outside until then', async () => {
    const email = anEmail();
    let seenInside: Account | null = null;
    let seenOutside: number | undefined;
    await as(a, () =>
      data.transactionScope(async () => {
        await data.transaction((tx) => tx.repository(Account).insert({ email, name: 'joined' }));
        seenInside = await data.read(Account).findOneBy({ email });
        seenOutside = await outsideRead(a, email);
      }),
    );
    expect(seenInside).toMatchObject({ email, tenantId: a.tenantId });
    expect(seenOutside).toBe(0);
    expect(await find(a, email)).toMatchObject({ email });
  });

  it('rolls joined writes back with the scope', async () => {
    const email = anEmail();
    const failing = as(a, () =>
      data.transactionScope(async () => {
        await data.transaction((tx) => tx.repository(Account).insert({ email, name: 'doomed' }));
        throw new Error('the request failed after its write');
      }),
    );
    await expect(failing).rejects.toThrow('the request failed after its write');
    expect(await find(a, email)).toBeNull();
  });

  it('undoes only a failed joined transaction (a SAVEPOINT); the scope goes on and commits the rest', async () => {
    const [kept, undone] = [anEmail(), anEmail()];
    await as(a, () =>
      data.transactionScope(async () => {
        await data.transaction((tx) => tx.repository(Account).insert({ email: kept, name: 'kept' }));
        await expect(
          data.transaction(async (tx) => {
            await tx.repository(Account).insert({ email: undone, name: 'undone' });
            await tx.repository(Account).insert({ email: kept, name: 'duplicate email' });
          }),
        ).rejects.toThrow();
      }),
    );
    expect(await find(a, kept)).toMatchObject({ name: 'kept' });
    expect(await find(a, undone)).toBeNull();
  });

  it("drops what a failed joined transaction queued for the COMMIT message and after it; keeps a released one's", async () => {
    const [kept, undone] = [anEmail(), anEmail()];
    const ran: string[] = [];
    const insertAtCommit = (email: string) => `INSERT INTO customers (tenant_id, id, email, name) VALUES ('${a.tenantId}', gen_random_uuid(), '${email}', 'at commit')`;
    await as(a, () =>
      data.transactionScope(async () => {
        await data.transaction(async (tx) => {
          tx.commitWith(insertAtCommit(kept));
          tx.afterCommit(() => ran.push('kept'));
        });
        await expect(
          data.transaction(async (tx) => {
            tx.commitWith(insertAtCommit(undone));
            tx.afterCommit(() => ran.push('undone'));
            throw new Error('the joined work failed after queueing');
          }),
        ).rejects.toThrow('the joined work failed after queueing');
      }),
    );
    expect(await find(a, kept)).toMatchObject({ name: 'at commit' });
    expect(await find(a, undone)).toBeNull();
    expect(ran).toEqual(['kept']);
  });

  it('drops what a joined transaction queued when its RELEASE fails and it is rolled back instead', async () => {
    const [kept, undone] = [anEmail(), anEmail()];
    const ran: string[] = [];
    const insertAtCommit = (email: string) => `INSERT INTO customers (tenant_id, id, email, name) VALUES ('${a.tenantId}', gen_random_uuid(), '${email}', 'at commit')`;
    await as(a, () =>
      data.transactionScope(async (scope) => {
        scope.commitWith(insertAtCommit(kept));
        await expect(
          data.transaction(async (tx) => {
            tx.commitWith(insertAtCommit(undone));
            tx.afterCommit(() => ran.push('undone'));
            // Swallowed here, so the work returns normally and its RELEASE meets an aborted transaction.
            await tx.statement('SELECT 1 / (0 * length($1::text))').catch(() => undefined);
          }),
        ).rejects.toThrow();
        scope.afterCommit(() => ran.push('kept'));
      }),
    );
    expect(await find(a, kept)).toMatchObject({ name: 'at commit' });
    expect(await find(a, undone)).toBeNull();
    expect(ran).toEqual(['kept']);
  });

  it('refuses a joined transaction that asks for its own isolation level, and nested scopes', async () => {
    await as(a, () =>
      data.transactionScope(async () => {
        await expect(data.transaction(async () => undefined, { isolationLevel: 'REPEATABLE READ' })).rejects.toThrow(TenantBoundaryViolationError);
        await expect(data.transactionScope(async () => undefined)).rejects.toThrow(TenantBoundaryViolationError);
      }),
    );
  });

  it('namespaces advisory locks by tenant: a name held by one tenant is free for another', async () => {
    const outcomes: Record<string, boolean> = {};
    await as(a, () =>
      data.transactionScope(async (tx) => {
        outcomes.a = await tx.tryAdvisoryLock('shared-name');
        outcomes.aAgain = await tx.tryAdvisoryLock('shared-name');
        // Tenant b's transaction runs while a's still holds the lock (same-tenant contention: test/idempotency.spec.ts).
        outcomes.b = await as(b, () => data.transaction((other) => other.tryAdvisoryLock('shared-name')));
      }),
    );
    expect(outcomes).toEqual({ a: true, aAgain: true, b: true });
  });
});

import { TenantContext } from '../src/context/tenant-context';
import { runWithTenant } from '../src/context/tenant-context.store';
import { TenantData } from '../src/data/tenant-data';
import { Account, anEmail, Harness, ManagedAccount, startHarness } from './tenancy-harness';

/** ScopedRepository's inserts, written from the entity's metadata (compiled-insert.ts), against the real database. */
describe('scoped inserts', () => {
  let harness: Harness;
  let data: TenantData;
  let a: TenantContext;
  let b: TenantContext;

  beforeAll(async () => {
    harness = await startHarness();
    data = harness.context.get(TenantData);
    [a, b] = [await harness.newTenant(), await harness.newTenant()];
  });
  afterAll(() => harness.close());

  const as = <T>(tenant: TenantContext, work: () => Promise<T>) => runWithTenant(tenant, work);

  it('stamps the tenant, mints the id through the insert subscriber, and fills in the database default', async () => {
    const before = Date.now();
    const account = await as(a, () => data.transaction((tx) => tx.repository(Account).insert({ email: anEmail(), name: 'one' })));
    expect(account.tenantId).toBe(a.tenantId);
    expect(account.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(account.createdAt).toBeInstanceOf(Date);
    expect(account.createdAt.getTime()).toBeGreaterThan(before - 60_000);
    const read = await as(a, () => data.read(Account).findById(account.id));
    expect(read).toEqual(account);
    expect(await as(b, () => data.read(Account).findById(account.id))).toBeNull();
  });

  it('inserts if absent: true once, then false for the same unique email, writing nothing more', async () => {
    const email = anEmail();
    const first = await as(a, () => data.transaction((tx) => tx.repository(Account).insertIfAbsent({ email, name: 'first' })));
    const again = await as(a, () => data.transaction((tx) => tx.repository(Account).insertIfAbsent({ email, name: 'second' })));
    expect([first, again]).toEqual([true, false]);
    expect(await as(a, () => data.read(Account).findOneBy({ email }))).toMatchObject({ name: 'first' });
    // Another tenant's row of the same email is no conflict.
    expect(await as(b, () => data.transaction((tx) => tx.repository(Account).insertIfAbsent({ email, name: 'b' })))).toBe(true);
  });

  it('inserts if absent by primary key too, whatever the case of a caller-given id', async () => {
    const id = '0190aaaa-bbbb-7ccc-8ddd-' + Date.now().toString(16).padStart(12, '0').slice(-12);
    const upper = id.toUpperCase();
    const first = await as(a, () => data.transaction((tx) => tx.repository(Account).insertIfAbsent({ id: upper, email: anEmail(), name: 'by id' })));
    const again = await as(a, () => data.transaction((tx) => tx.repository(Account).insertIfAbsent({ id, email: anEmail(), name: 'same id' })));
    expect([first, again]).toEqual([true, false]);
    expect(await as(a, () => data.read(Account).findById(id))).toMatchObject({ name: 'by id' });
  });

  it('inserts many rows in one statement, a value given where given and the default where not', async () => {
    const given = new Date('2020-01-02T03:04:05.000Z');
    const emails = [anEmail(), anEmail(), anEmail()];
    await as(a, () =>
      data.transaction((tx) =>
        tx.repository(Account).insertMany([
          { email: emails[0], name: 'x', createdAt: given },
          { email: emails[1], name: 'y' },
          { email: emails[2], name: 'z', createdAt: given },
        ]),
      ),
    );
    const rows = await Promise.all(emails.map((email) => as(a, () => data.read(Account).findOneBy({ email }))));
    expect(rows.map((row) => row?.createdAt.toISOString() === given.toISOString())).toEqual([true, false, true]);
    expect(rows.every((row) => row?.tenantId === a.tenantId)).toBe(true);
  });

  it('leaves an entity with columns TypeORM manages to its own insert, under the same stamp', async () => {
    const account = await as(a, () => data.transaction((tx) => tx.repository(ManagedAccount).insert({ email: anEmail(), name: 'managed' })));
    expect(account.tenantId).toBe(a.tenantId);
    expect(account.createdAt).toBeInstanceOf(Date);
    expect(await as(a, () => data.transaction((tx) => tx.repository(ManagedAccount).insertIfAbsent({ email: account.email, name: 'again' })))).toBe(false);
    expect(await as(a, () => data.read(Account).findById(account.id))).toMatchObject({ name: 'managed', tenantId: a.tenantId });
  });
});

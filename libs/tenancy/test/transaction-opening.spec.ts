import { isInfrastructureFailure } from '@bulkhead/problem';
import { Client } from 'pg';
import { QueryRunnerAlreadyReleasedError } from 'typeorm';
import { TenantContext } from '../src/context/tenant-context';
import { runWithTenant } from '../src/context/tenant-context.store';
import { TenantData } from '../src/data/tenant-data';
import { Account, anEmail, Harness, startHarness } from './tenancy-harness';

/**
 * A transaction's opening (START TRANSACTION and the tenant's settings) travels in front of its
 * first statement when that statement has no bind parameters, and is never sent alone otherwise.
 * Observed at the driver: every message a connection is sent, as the server receives it.
 */
describe('transaction opening', () => {
  let harness: Harness;
  let data: TenantData;
  let a: TenantContext;
  let sent: Array<{ client: unknown; text: string }>;

  beforeAll(async () => {
    harness = await startHarness({ DATABASE_POOL_MAX: '1' });
    data = harness.context.get(TenantData);
    a = await harness.newTenant();
  });
  beforeEach(() => {
    sent = [];
    const query = Client.prototype.query;
    jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
      sent.push({ client: this, text: String(text) });
      return (query as (...params: unknown[]) => unknown).apply(this, args);
    } as never);
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(() => harness.close());

  const as = <T>(work: () => Promise<T>) => runWithTenant(a, work);
  /** The messages of the last transaction that opened with this tenant's setting, on its connection. */
  const transactionMessages = () => {
    let start = sent.length - 1;
    while (start >= 0 && !(sent[start].text.startsWith('START TRANSACTION') && sent[start].text.includes(a.tenantId))) start -= 1;
    if (start < 0) return [];
    const connection = sent[start].client;
    const messages = sent.slice(start).filter((message) => message.client === connection).map((message) => message.text);
    // The connection goes back to the pool at COMMIT or ROLLBACK; what follows (the tenant-change poll) is not the transaction's.
    const end = messages.findIndex((text) => /(^|\n)(COMMIT|ROLLBACK)$/.test(text));
    return end < 0 ? messages : messages.slice(0, end + 1);
  };

  it('sends an insert and its commit in two messages, the opening in front of the insert', async () => {
    const account = await as(() => data.transaction((tx) => tx.repository(Account).insert({ email: anEmail(), name: 'two messages' })));
    const messages = transactionMessages();
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/^START TRANSACTION .*; SELECT set_config\('app\.tenant_id', '[0-9a-f-]{36}', true\).*; INSERT INTO "customers"/s);
    // The commit message carries the placement check (a write must land where the tenant lives).
    expect(messages[1]).toMatch(/bulkhead_assert_placement\(.*;\nCOMMIT$/s);
    expect(await as(() => data.read(Account).findById(account.id))).toMatchObject({ name: 'two messages', tenantId: a.tenantId });
  });

  it('sends one message for a transaction that runs no statement of its own, and none for one that fails before any', async () => {
    await expect(as(() => data.transaction(async () => 'nothing'))).resolves.toBe('nothing');
    const messages = transactionMessages();
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^START TRANSACTION .*; SELECT set_config\(.*; SELECT public\.bulkhead_assert_placement\(.*;\nCOMMIT$/s);
    sent = [];
    const failing = as(() =>
      data.transaction(async () => {
        throw new Error('before any statement');
      }),
    );
    await expect(failing).rejects.toThrow('before any statement');
    expect(transactionMessages()).toEqual([]);
  });

  it('opens alone, first, before a statement with bind parameters, which then sees the tenant set', async () => {
    const rows = await as(() => data.transaction((tx) => tx.statement<{ tenant: string; mine: boolean }>("SELECT current_setting('app.tenant_id') AS tenant, $1::uuid = current_setting('app.tenant_id')::uuid AS mine")));
    expect(rows).toEqual([{ tenant: a.tenantId, mine: true }]);
    const messages = transactionMessages();
    expect(messages[0]).toMatch(/^START TRANSACTION .*; SELECT set_config\('app\.tenant_id', '[0-9a-f-]{36}', true\)[^;]*$/s);
    expect(messages[1]).toMatch(/^SELECT current_setting/);
  });

  it('inlines values exactly as bind parameters would carry them, and binds text with a NUL, which the server refuses as before', async () => {
    const names = ["O'Brien \\ back\\slash", 'emoji 🚀 and ünïcödé', '$1 -- not a comment', "'); DROP TABLE accounts; --", ' E\'\\x41\' '];
    const created = new Date('2001-02-03T04:05:06.789Z');
    for (const name of names) {
      const account = await as(() => data.transaction((tx) => tx.repository(Account).insert({ email: anEmail(), name, createdAt: created })));
      expect(transactionMessages()[0]).toContain('INSERT INTO');
      const read = await as(() => data.read(Account).findById(account.id));
      expect({ name: read?.name, createdAt: read?.createdAt.toISOString() }).toEqual({ name, createdAt: created.toISOString() });
      sent = [];
    }
    const nul = as(() => data.transaction((tx) => tx.repository(Account).insert({ email: anEmail(), name: 'a\0b' })));
    await expect(nul).rejects.toMatchObject({ driverError: expect.objectContaining({ code: '22021' }) });
    expect(transactionMessages()[1]).toMatch(/^INSERT INTO .*\$1/s);
  });

  it('leaves the pooled connection clean when the message with the opening fails', async () => {
    const email = anEmail();
    await as(() => data.transaction((tx) => tx.repository(Account).insert({ email, name: 'first' })));
    // The same primary key again: the combined message fails after START TRANSACTION ran.
    const again = await as(() => data.read(Account).findOneBy({ email }));
    const duplicate = as(() => data.transaction((tx) => tx.repository(Account).insert({ id: again!.id, email: anEmail(), name: 'duplicate' })));
    await expect(duplicate).rejects.toMatchObject({ driverError: expect.objectContaining({ code: '23505' }) });
    expect(transactionMessages().slice(-1)).toEqual(['ROLLBACK']);
    // The pool's one connection: no transaction left open, no tenant left set.
    const leftover = await harness.dataSource.query("SELECT current_setting('app.tenant_id', true) AS tenant, now() = statement_timestamp() AS fresh");
    expect(leftover).toHaveLength(1);
    expect({ tenant: leftover[0].tenant || 'none', fresh: leftover[0].fresh }).toEqual({ tenant: 'none', fresh: true });
  });

  it('reports the dropped connection, an outage, when the server goes away between the opening and a statement with parameters', async () => {
    const query = Client.prototype.query;
    jest.restoreAllMocks();
    // The opening's own message is answered, then the server ends the backend before the next one.
    jest.spyOn(Client.prototype, 'query').mockImplementation(async function (this: Client, ...args: unknown[]) {
      const text = String(typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text);
      const result = await (query as (...params: unknown[]) => Promise<unknown>).apply(this, args);
      if (text.startsWith('START TRANSACTION') && text.includes(a.tenantId) && !text.includes('dropped-here')) {
        const pid = (this as unknown as { processID: number }).processID;
        const ended = new Promise((resolve) => this.once('end', resolve));
        const killer = new Client({ connectionString: process.env.DATABASE_URL });
        await killer.connect();
        try {
          await killer.query('SELECT pg_terminate_backend($1)', [pid]);
        } finally {
          await killer.end();
        }
        await ended;
      }
      return result;
    } as never);
    const failed = as(() => data.transaction((tx) => tx.statement("SELECT $2::text AS marker, $1::uuid AS tenant", ['dropped-here'])));
    const error = await failed.catch((caught: unknown) => caught);
    expect(error).not.toBeInstanceOf(QueryRunnerAlreadyReleasedError);
    expect(isInfrastructureFailure(error)).toBe(true);
  });
});

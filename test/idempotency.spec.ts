import './support/private-job-queue';
import { IsolationModel } from '@bulkhead/config';
import { quoteIdent, withDatabase, withPg } from '@bulkhead/database';
import { TenantRecord } from '@bulkhead/control-plane';
import { IdempotencyRecord, recordIdOf } from '@bulkhead/idempotency';
import { runWithTenant, TenantData, tenantContextOf } from '@bulkhead/tenancy';
import { randomUUID } from 'node:crypto';
import { call, expectProblem } from './support/http';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';

const quoted = (key: string) => `"${key}"`;

/**
 * Moves a record's expiry into the past, as the owner role (the runtime role may not UPDATE
 * records: a stored response never changes), in the tenant's own storage, with its tenant set.
 */
async function ageRecord(api: TestApi, tenant: TenantRecord, key: string): Promise<void> {
  const url = tenant.databaseName ? withDatabase(api.config.DATABASE_OWNER_URL, tenant.databaseName) : api.config.DATABASE_OWNER_URL;
  await withPg(url, 'idempotency-test', async (client) => {
    await client.query('BEGIN');
    await client.query("SELECT set_config('app.tenant_id', $1, true)", [tenant.id]);
    if (tenant.schemaName) await client.query(`SET LOCAL search_path TO ${quoteIdent(tenant.schemaName)}`);
    const updated = await client.query("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE tenant_id = $1 AND id = $2", [tenant.id, recordIdOf(key)]);
    await client.query('COMMIT');
    expect(updated.rowCount).toBe(1);
  });
}

/** `Idempotency-Key` on tenant POSTs, against the real stack, in every isolation model. */
describe.each<IsolationModel>(['pool', 'schema', 'silo'])('Idempotency-Key (%s)', (model) => {
  let api: TestApi;
  let tenant: TenantRecord;
  let token: string;

  /** The tenant's stored record for a key, read through the production data path. */
  const recordOf = (owner: TenantRecord, key: string) =>
    runWithTenant(tenantContextOf(owner, 'test'), () => api.app.get(TenantData).read(IdempotencyRecord).findById(recordIdOf(key)));
  const listProjects = async (as: string) => (await call(api.server, 'get', '/v1/projects?limit=100', as)).body.items as Array<{ id: string; name: string }>;
  const post = (path: string, body: unknown, key: string | undefined, as = token) => call(api.server, 'post', path, as, body, key === undefined ? {} : { 'Idempotency-Key': key });

  beforeAll(async () => {
    api = await startTestApi();
    tenant = await createTenant(api, { isolation: model });
    token = tokenFor(api, tenant);
  });
  afterAll(() => api.close());

  it('replays the stored response to a retry of the same request, and writes once', async () => {
    const key = quoted(randomUUID());
    const name = `replay-${randomUUID()}`;
    const first = await post('/v1/projects', { name }, key);
    expect(first.status).toBe(201);
    expect(first.headers['idempotency-replayed']).toBeUndefined();
    // Other whitespace in the same JSON body is the same request.
    const retry = await call(api.server, 'post', '/v1/projects', token, `{ "name" :\n  ${JSON.stringify(name)} }`, { 'Idempotency-Key': key, 'Content-Type': 'application/json' });
    expect({ status: retry.status, body: retry.body, replayed: retry.headers['idempotency-replayed'], type: retry.headers['content-type'] }).toEqual({
      status: 201,
      body: first.body,
      replayed: 'true',
      type: first.headers['content-type'],
    });
    // Byte for byte: a client may compare, sign or cache the bytes it received.
    expect(retry.text).toBe(first.text);
    expect((await listProjects(token)).filter((project) => project.name === name)).toHaveLength(1);
    const record = await recordOf(tenant, key.slice(1, -1));
    expect(record).toMatchObject({ key: key.slice(1, -1), method: 'POST', path: '/v1/projects', status: 201 });
    expect(new Date(record!.expiresAt).getTime() - new Date(record!.createdAt).getTime()).toBeGreaterThan(23.9 * 3600 * 1000);
  });

  it('replays the first response byte for byte, its keys in their order', async () => {
    const key = quoted(randomUUID());
    // A customer's `email` comes before its shorter `name`: an order a jsonb column would not keep.
    const first = await post('/v1/customers', { email: `bytes-${randomUUID()}@example.com`, name: 'Bytes' }, key);
    expect(first.status).toBe(201);
    expect(Object.keys(first.body).indexOf('email')).toBeLessThan(Object.keys(first.body).indexOf('name'));
    const retry = await post('/v1/customers', { name: 'Bytes', email: first.body.email }, key);
    expect({ replayed: retry.headers['idempotency-replayed'], text: retry.text }).toEqual({ replayed: 'true', text: first.text });
  });

  it('answers 422 for the same key with another body or path, and 409 while the first still runs', async () => {
    const key = randomUUID();
    expect((await post('/v1/projects', { name: 'first' }, quoted(key))).status).toBe(201);
    expectProblem(await post('/v1/projects', { name: 'second' }, quoted(key)), 422, 'idempotency_key_reused');
    expectProblem(await post('/v1/customers', { name: 'first', email: `${key}@example.com` }, quoted(key)), 422, 'idempotency_key_reused');

    // Hold the key the way an in-flight request does (its transaction's advisory lock).
    const held = randomUUID();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: (value: boolean) => void;
    const lockTaken = new Promise<boolean>((resolve) => (locked = resolve));
    const holder = runWithTenant(tenantContextOf(tenant, 'test'), () =>
      api.app.get(TenantData).transactionScope(async (tx) => {
        locked(await tx.tryAdvisoryLock(`idempotency:${recordIdOf(held)}`));
        await released;
      }),
    );
    expect(await lockTaken).toBe(true);
    const busy = await post('/v1/projects', { name: 'busy' }, quoted(held));
    release();
    await holder;
    expectProblem(busy, 409, 'idempotency_key_in_progress');
    expect(busy.headers['retry-after']).toBe('1');
    expect(await recordOf(tenant, held)).toBeNull();
    expect((await post('/v1/projects', { name: 'busy' }, quoted(held))).status).toBe(201);
  });

  it('lets concurrent duplicates write exactly once: one runs, the others replay or get 409', async () => {
    const key = quoted(randomUUID());
    const name = `race-${randomUUID()}`;
    const answers = await Promise.all(Array.from({ length: 8 }, () => post('/v1/projects', { name }, key)));
    const fresh = answers.filter((answer) => answer.status === 201 && answer.headers['idempotency-replayed'] === undefined);
    const replayed = answers.filter((answer) => answer.status === 201 && answer.headers['idempotency-replayed'] === 'true');
    const busy = answers.filter((answer) => answer.status === 409 && answer.body.code === 'idempotency_key_in_progress');
    expect({ fresh: fresh.length, rest: replayed.length + busy.length }).toEqual({ fresh: 1, rest: 7 });
    for (const answer of replayed) expect(answer.body).toEqual(fresh[0].body);
    expect((await listProjects(token)).filter((project) => project.name === name)).toHaveLength(1);
  });

  it('stores nothing when the write fails, so the retry runs afresh', async () => {
    const key = randomUUID();
    const email = `taken-${key}@example.com`;
    const existing = await post('/v1/customers', { email, name: 'Existing' }, undefined);
    expect(existing.status).toBe(201);
    expectProblem(await post('/v1/customers', { email, name: 'Again' }, quoted(key)), 409, 'customer_email_taken');
    expect(await recordOf(tenant, key)).toBeNull();
    expect((await call(api.server, 'delete', `/v1/customers/${existing.body.id}`, token)).status).toBe(204);
    const retried = await post('/v1/customers', { email, name: 'Again' }, quoted(key));
    expect(retried.status).toBe(201);
    expect(retried.headers['idempotency-replayed']).toBeUndefined();
    expect(await recordOf(tenant, key)).toMatchObject({ status: 201, body: retried.text });
  });

  it('keys a tenant only: tenant B sending A\'s key gets its own fresh execution', async () => {
    const other = await createTenant(api, { isolation: model });
    const otherToken = tokenFor(api, other);
    const key = quoted(randomUUID());
    const mine = await post('/v1/projects', { name: 'shared key' }, key);
    const theirs = await post('/v1/projects', { name: 'shared key' }, key, otherToken);
    expect(theirs.status).toBe(201);
    expect(theirs.headers['idempotency-replayed']).toBeUndefined();
    expect(theirs.body.id).not.toBe(mine.body.id);
    // And B's different request under the same key is B's own business, not a reuse of A's.
    expect((await post('/v1/projects', { name: 'other body' }, quoted(randomUUID()), otherToken)).status).toBe(201);
    expect((await listProjects(otherToken)).map((project) => project.id)).not.toContain(mine.body.id);
    expect((await post('/v1/projects', { name: 'shared key' }, key, otherToken)).body).toEqual(theirs.body);
  });

  it('makes job-enqueueing POSTs idempotent: one export and one job per key', async () => {
    const fresh = await createTenant(api, { isolation: model });
    const freshToken = tokenFor(api, fresh);
    const key = quoted(randomUUID());
    const first = await post('/v1/exports', undefined, key, freshToken);
    const retry = await post('/v1/exports', undefined, key, freshToken);
    expect(first.status).toBe(202);
    expect({ status: retry.status, body: retry.body, replayed: retry.headers['idempotency-replayed'] }).toEqual({ status: 202, body: first.body, replayed: 'true' });
    const recalculated = await post('/v1/customer-totals/recalculate', undefined, quoted(randomUUID()), freshToken);
    expect(recalculated.status).toBe(202);
    const jobs = await call(api.server, 'get', `/v1/admin/jobs/tenants/${fresh.id}`, operatorToken(api));
    expect(jobs.status).toBe(200);
    // No worker runs in this suite: both jobs are still buffered, the retried export's not among them.
    expect(jobs.body.backlog).toBe(2);
  });

  it('forgets a key after 24 h: an expired record is neither replayed nor a conflict, and is swept', async () => {
    const sweptTenant = await createTenant(api, { isolation: model });
    const sweptToken = tokenFor(api, sweptTenant);
    const [expired, stale, live] = [randomUUID(), randomUUID(), randomUUID()];
    for (const key of [expired, stale, live]) expect((await post('/v1/projects', { name: 'old' }, quoted(key), sweptToken)).status).toBe(201);
    await ageRecord(api, sweptTenant, expired);
    await ageRecord(api, sweptTenant, stale);
    const reused = await post('/v1/projects', { name: 'new request' }, quoted(expired), sweptToken);
    expect({ status: reused.status, replayed: reused.headers['idempotency-replayed'] }).toEqual({ status: 201, replayed: undefined });
    expect(await recordOf(sweptTenant, expired)).toMatchObject({ path: '/v1/projects', body: reused.text });
    // This process swept the tenant at its first keyed POST; another process sweeps at its own first.
    expect(await recordOf(sweptTenant, stale)).not.toBeNull();
    const other = await startTestApi();
    try {
      expect((await call(other.server, 'post', '/v1/projects', sweptToken, { name: 'sweeper' }, { 'Idempotency-Key': quoted(randomUUID()) })).status).toBe(201);
    } finally {
      await other.close();
    }
    expect(await recordOf(sweptTenant, stale)).toBeNull();
    expect(await recordOf(sweptTenant, live)).not.toBeNull();
  });

  it('refuses malformed keys with 400 and writes nothing', async () => {
    const before = (await listProjects(token)).length;
    const malformed = ['unquoted-key', '""', quoted('x'.repeat(256)), quoted('caf\u00e9'), `${quoted('a')};p=1`, `${quoted('a')}, ${quoted('b')}`, '"open', quoted('tab\there')];
    for (const key of malformed) {
      const response = await post('/v1/projects', { name: 'never' }, key);
      expect({ key, status: response.status, code: response.body.code }).toEqual({ key, status: 400, code: 'idempotency_key_invalid' });
    }
    expect((await listProjects(token)).length).toBe(before);
    const longest = await post('/v1/projects', { name: 'longest key' }, quoted('k'.repeat(255)));
    expect(longest.status).toBe(201);
    const escaped = await post('/v1/projects', { name: 'escaped key' }, '"a \\"quoted\\" \\\\ key"');
    expect(escaped.status).toBe(201);
    expect(await recordOf(tenant, 'a "quoted" \\ key')).not.toBeNull();
  });
});

describe('Idempotency-Key outside tenant POSTs', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  it('is refused on operator routes (400 idempotency_key_unsupported) and ignored on other methods', async () => {
    const operator = operatorToken(api);
    const refused = await call(api.server, 'post', '/v1/admin/tenants', operator, { slug: `idem-${Date.now().toString(36)}`, name: 'Nope', tier: 'free' }, { 'Idempotency-Key': quoted(randomUUID()) });
    expectProblem(refused, 400, 'idempotency_key_unsupported');
    const tenant = await createTenant(api);
    const token = tokenFor(api, tenant);
    const created = await call(api.server, 'post', '/v1/projects', token, { name: 'patched' });
    const patched = await call(api.server, 'patch', `/v1/projects/${created.body.id}`, token, { name: 'patched twice' }, { 'Idempotency-Key': 'not even quoted' });
    expect(patched.status).toBe(200);
  });
});

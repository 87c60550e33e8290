import { randomUUID } from 'node:crypto';
import { AuditChainer, AuditTrail, AuditVerifier, RefusalRecorder } from '@bulkhead/audit';
import { BulkheadConfig, loadConfig } from '@bulkhead/config';
import { parsePgUrl, withDatabase, withPg } from '@bulkhead/database';
import { TenantRecord } from '@bulkhead/control-plane';
import { TenantData, tenantContextOf } from '@bulkhead/tenancy';
import { call, expectProblem } from './support/http';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';

/** Refused requests and operator actions are recorded; tenants read their own trail, operators all. */
describe('audit API', () => {
  let api: TestApi;
  let a: TenantRecord;
  let b: TenantRecord;

  beforeAll(async () => {
    api = await startTestApi();
    a = await createTenant(api);
    b = await createTenant(api, { tier: 'pro' });
  });
  afterAll(async () => {
    await api.close();
  });

  const flush = () => api.app.get(RefusalRecorder).flush();

  async function platformEntries(query: string) {
    const response = await call(api.server, 'get', `/v1/admin/audit?${query}`, operatorToken(api));
    expect(response.status).toBe(200);
    return response.body.items as Array<Record<string, any>>;
  }

  it('records a 401 and a 403 in the platform chain with their reason codes, and failed writes in the tenant chain', async () => {
    const requestId = `refused-${Date.now()}`;
    expect((await call(api.server, 'get', '/v1/customers', 'not-a-token', undefined, { 'x-request-id': requestId })).status).toBe(401);
    const mismatch = `mismatch-${Date.now()}`;
    expect((await call(api.server, 'get', '/v1/customers', tokenFor(api, a), undefined, { 'x-tenant-id': b.id, 'x-request-id': mismatch })).status).toBe(403);
    const failed = `failed-${Date.now()}`;
    expect((await call(api.server, 'post', '/v1/customers', tokenFor(api, a), { name: '' }, { 'x-request-id': failed })).status).toBe(400);
    await flush();

    const [unauthenticated] = await platformEntries(`requestId=${requestId}`);
    expect(unauthenticated).toMatchObject({ outcome: 'refused', status: 401, code: 'unauthenticated', actor: { kind: 'anonymous' }, action: 'GET /v1/customers' });
    const [refused] = await platformEntries(`requestId=${mismatch}`);
    expect(refused).toMatchObject({ outcome: 'refused', status: 403, code: 'tenant_mismatch', actor: { kind: 'tenant_user', subject: 'user-1' }, resolution: { claimedTenant: a.id } });

    const own = await call(api.server, 'get', `/v1/audit?requestId=${failed}`, tokenFor(api, a));
    expect(own.body.items).toEqual([expect.objectContaining({ outcome: 'failed', status: 400, code: 'validation_failed', action: 'POST /v1/customers' })]);
  });

  it("records an update or delete of a row the tenant does not have as failed only: nothing committed (another tenant's row alike)", async () => {
    // Tenants of its own: the other tests count the entries of theirs.
    const [mine, other] = [await createTenant(api), await createTenant(api)];
    const theirs = await call(api.server, 'post', '/v1/customers', tokenFor(api, other), { email: `theirs-${Date.now()}@x.test`, name: 'Theirs' });
    expect(theirs.status).toBe(201);
    for (const [method, id, body] of [
      ['patch', theirs.body.id, { name: 'Mine now' }],
      ['patch', randomUUID(), { name: 'Nobody' }],
      ['delete', theirs.body.id, undefined],
      ['delete', randomUUID(), undefined],
    ] as const) {
      const requestId = `missing-${method}-${randomUUID()}`;
      expect((await call(api.server, method, `/v1/customers/${id}`, tokenFor(api, mine), body, { 'x-request-id': requestId })).status).toBe(404);
      await flush();
      const own = await call(api.server, 'get', `/v1/audit?requestId=${requestId}`, tokenFor(api, mine));
      expect(own.body.items.map((entry: { outcome: string; status?: number }) => [entry.outcome, entry.status])).toEqual([['failed', 404]]);
    }
  });

  it('records every operator action in the platform chain', async () => {
    const requestId = `operator-${Date.now()}`;
    expect((await call(api.server, 'get', `/v1/admin/tenants/${a.id}`, operatorToken(api), undefined, { 'x-request-id': requestId })).status).toBe(200);
    await flush();
    const [entry] = await platformEntries(`requestId=${requestId}`);
    expect(entry).toMatchObject({ action: 'GET /v1/admin/tenants/:id', outcome: 'succeeded', actor: { kind: 'operator', subject: 'operator-1' }, resource: { type: 'tenants', id: a.id } });
  });

  it('keeps operator actions when refusals fill their queue: the surplus refusals are counted, the actions written', async () => {
    // The API's own recorder, but holding three refusals at most (AUDIT_REFUSALS_MAX_PENDING).
    const config = Object.assign(new BulkheadConfig(), api.config, { AUDIT_REFUSALS_MAX_PENDING: 3 });
    const recorder = new RefusalRecorder(api.app.get(AuditTrail), api.app.get(TenantData), config);
    const marker = randomUUID();
    const from = new Date().toISOString();
    // A flood of bad tokens, then an operator's action, before the first batch is written.
    for (let i = 0; i < 5; i++) {
      recorder.observeProblem({ type: 'about:blank', title: 'Unauthorized', status: 401, code: 'unauthenticated' }, { method: 'GET', url: '/v1/customers', id: `flood-${marker}-${i}` });
    }
    recorder.enqueueOperatorAction({ action: 'GET /v1/admin/tenants', outcome: 'succeeded', actor: { kind: 'operator', subject: 'operator-1', scopes: [] }, requestId: `kept-${marker}` });
    await recorder.flush();

    const written = [];
    for (let i = 0; i < 5; i++) written.push((await platformEntries(`requestId=flood-${marker}-${i}`)).length);
    expect(written).toEqual([1, 1, 1, 0, 0]);
    expect(await platformEntries(`requestId=kept-${marker}`)).toEqual([expect.objectContaining({ outcome: 'succeeded', actor: expect.objectContaining({ kind: 'operator', subject: 'operator-1' }) })]);
    const counts = await platformEntries(`action=audit.refusals_dropped&from=${encodeURIComponent(from)}&limit=200`);
    expect(counts.map((entry) => entry.details)).toContainEqual({ count: 2 });
    expect(await platformEntries(`action=audit.operator_actions_dropped&from=${encodeURIComponent(from)}`)).toEqual([]);
  });

  it("serves a tenant its own trail only, filtered and paginated, and as JSON lines; operators read any tenant's", async () => {
    for (const tenant of [a, b]) {
      for (let i = 0; i < 3; i++) {
        expect((await call(api.server, 'post', '/v1/customers', tokenFor(api, tenant), { name: `n${i}`, email: `n${i}-${tenant.slug}@example.com` })).status).toBe(201);
      }
    }
    const first = await call(api.server, 'get', '/v1/audit?outcome=committed&limit=2', tokenFor(api, a));
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.next).toEqual(first.body.items[1].id);
    const second = await call(api.server, 'get', `/v1/audit?outcome=committed&limit=2&after=${first.body.next}`, tokenFor(api, a));
    const all = [...first.body.items, ...second.body.items];
    // Entry 1 is the failed POST of the first test.
    const seqs = all.map((e: any) => e.seq);
    expect(seqs).toEqual(['2', '3', '4']);
    expect(all.every((e: any) => e.actor.subject === 'user-1' && e.personal === 'sealed')).toBe(true);
    // Each entry links to the one before it.
    expect(all[1].prevHash).toBe(all[0].hash);

    const exported = await call(api.server, 'get', '/v1/audit/export?outcome=committed', tokenFor(api, a));
    expect(exported.status).toBe(200);
    expect(exported.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const lines = exported.text.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((e) => e.seq)).toEqual(seqs);
    // At most `limit` entries when one is named (it was validated, then ignored).
    const two = await call(api.server, 'get', '/v1/audit/export?outcome=committed&limit=2', tokenFor(api, a));
    expect(two.text.trim().split('\n').map((line) => JSON.parse(line).seq)).toEqual(seqs.slice(0, 2));

    const ofB = await call(api.server, 'get', '/v1/admin/tenants/' + b.id + '/audit?outcome=committed', operatorToken(api));
    expect(ofB.body.items.map((e: any) => e.resolution.registry.tenantId)).toEqual([b.id, b.id, b.id]);
    expect(ofB.body.items[0].resolution.placement.model).toBe('schema');
    // A tenant cannot read the platform's or another tenant's trail.
    expect((await call(api.server, 'get', '/v1/admin/audit', tokenFor(api, a))).status).toBe(403);
  });

  it('filters by time as RFC 3339 reads it, and refuses what names no instant', async () => {
    const entries = (await call(api.server, 'get', '/v1/audit?outcome=committed&limit=3', tokenFor(api, a))).body.items as Array<{ at: string; seq: string }>;
    const at = entries[1].at;
    const window = async (query: string) => (await call(api.server, 'get', `/v1/audit?outcome=committed&${query}`, tokenFor(api, a))).body.items.map((e: any) => e.seq);
    // The same instant with another offset, a fraction beyond milliseconds and a lower-case `t`.
    const shifted = new Date(Date.parse(at) + 2 * 3_600_000).toISOString().replace('Z', '999+02:00').replace('T', 't');
    expect(await window(`from=${encodeURIComponent(at)}`)).toEqual(entries.slice(1).map((e) => e.seq));
    expect(await window(`from=${encodeURIComponent(shifted)}`)).toEqual(entries.slice(1).map((e) => e.seq));
    expect(await window(`to=${encodeURIComponent(at)}`)).toEqual([entries[0].seq]);
    expect(await window('from=2016-12-31T23:59:60Z&limit=1')).toEqual([entries[0].seq]);
    // A day the month lacks (new Date reads 2 March), a time without an offset (local time to new Date),
    // a bare number (milliseconds or a year to new Date), a date alone.
    for (const bad of ['2026-02-30T00:00:00Z', '2026-11-25T12:00:00', '1700000000000', '2026', '2026-11-25']) {
      expectProblem(await call(api.server, 'get', `/v1/audit?from=${encodeURIComponent(bad)}`, tokenFor(api, a)), 400, 'validation_failed');
      expectProblem(await call(api.server, 'get', `/v1/admin/tenants/${a.id}/audit?to=${encodeURIComponent(bad)}`, operatorToken(api)), 400, 'validation_failed');
    }
  });

  describe('operator impersonation', () => {
    async function grant(tenant: TenantRecord, body: Record<string, unknown>) {
      const response = await call(api.server, 'post', `/v1/admin/tenants/${tenant.id}/impersonations`, operatorToken(api), body);
      expect(response.status).toBe(201);
      return response.body as { grant: string; grantId: string; expiresAt: string; mode: string };
    }

    it('is read-only unless write was asked, and every grant and use is in the tenant trail and the platform trail', async () => {
      const tenant = await createTenant(api);
      const read = await grant(tenant, { mode: 'read', reason: 'Ticket 1: orders missing' });
      const headers = { 'x-impersonation-grant': read.grant };
      expect((await call(api.server, 'get', '/v1/customers', operatorToken(api), undefined, headers)).status).toBe(200);
      const refused = await call(api.server, 'post', '/v1/customers', operatorToken(api), { name: 'x', email: `x-${tenant.slug}@example.com` }, headers);
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('impersonation_read_only');

      const write = await grant(tenant, { mode: 'write', reason: 'Ticket 2: fix a customer' });
      const created = await call(api.server, 'post', '/v1/customers', operatorToken(api), { name: 'y', email: `y-${tenant.slug}@example.com` }, { 'x-impersonation-grant': write.grant });
      expect(created.status).toBe(201);

      // The tenant sees every grant and use, who (the operator) and why.
      const own = (await call(api.server, 'get', '/v1/audit?limit=200', tokenFor(api, tenant))).body.items as Array<Record<string, any>>;
      expect(own.filter((e) => e.action === 'impersonation.grant').map((e) => [e.actor.impersonation.mode, e.actor.impersonation.reason, e.actor.subject])).toEqual([
        ['read', 'Ticket 1: orders missing', 'operator-1'],
        ['write', 'Ticket 2: fix a customer', 'operator-1'],
      ]);
      expect(own.filter((e) => e.action === 'impersonation.use')).toHaveLength(3);
      const write_ = own.find((e) => e.action === 'POST /v1/customers' && e.outcome === 'committed');
      expect(write_).toMatchObject({ actor: { kind: 'operator', subject: 'operator-1', impersonation: { grantId: write.grantId, mode: 'write' } }, resolution: { via: 'impersonation' } });
      const platform = await platformEntries(`action=impersonation.use`);
      expect(platform.filter((e) => e.details?.tenantId === tenant.id)).toHaveLength(3);
    });

    it('refuses an expired, forged or another operator\'s grant, a grant without an operator token, and a tenant token that tries one', async () => {
      const tenant = await createTenant(api);
      const other = await createTenant(api);
      const { grant: valid } = await grant(tenant, { mode: 'write', reason: 'Ticket 3' });
      const get = (token: string, value: string) => call(api.server, 'get', '/v1/customers', token, undefined, { 'x-impersonation-grant': value });
      const otherOperator = api.issuer.mint({ subject: 'operator-2', scopes: [api.config.AUTH_OPERATOR_SCOPE] });
      expect((await get(otherOperator, valid)).body.code).toBe('impersonation_refused');
      expect((await get(tokenFor(api, other), valid)).body.code).toBe('impersonation_refused');
      const [prefix, payload, signature] = valid.split('.');
      const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), tid: other.id })).toString('base64url');
      expect((await get(operatorToken(api), `${prefix}.${forged}.${signature}`)).body.code).toBe('impersonation_refused');

      // Expiry: a grant is refused once its lifetime is over.
      const short = await grant(tenant, { mode: 'read', reason: 'Ticket 4', ttlSeconds: 60 });
      expect((await get(operatorToken(api), short.grant)).status).toBe(200);
      const now = Date.now();
      const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 61_000);
      try {
        expect((await get(operatorToken(api), short.grant)).body.code).toBe('impersonation_refused');
      } finally {
        clock.mockRestore();
      }
    });
  });

  describe('revoking an impersonation grant', () => {
    it('stops every further use at once, whoever revokes it, and both trails and the grant list show it', async () => {
      const tenant = await createTenant(api);
      const issued = await call(api.server, 'post', `/v1/admin/tenants/${tenant.id}/impersonations`, operatorToken(api), { mode: 'read', reason: 'Ticket 5' });
      expect(issued.status).toBe(201);
      const headers = { 'x-impersonation-grant': issued.body.grant as string };
      expect((await call(api.server, 'get', '/v1/customers', operatorToken(api), undefined, headers)).status).toBe(200);

      const listed = await call(api.server, 'get', `/v1/admin/tenants/${tenant.id}/impersonations`, operatorToken(api));
      expect(listed.status).toBe(200);
      expect(listed.body.items).toEqual([
        expect.objectContaining({ grantId: issued.body.grantId, tenantId: tenant.id, operator: 'operator-1', mode: 'read', revokedAt: null, revokedBy: null }),
      ]);

      // Another operator (say, security) revokes it.
      const security = api.issuer.mint({ subject: 'operator-2', scopes: [api.config.AUTH_OPERATOR_SCOPE] });
      const revoked = await call(api.server, 'delete', `/v1/admin/tenants/${tenant.id}/impersonations/${issued.body.grantId}`, security);
      expect(revoked.status).toBe(200);
      expect(revoked.body).toMatchObject({ grantId: issued.body.grantId, revokedBy: 'operator-2', revokedAt: expect.any(String) });

      const refused = await call(api.server, 'get', '/v1/customers', operatorToken(api), undefined, headers);
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('impersonation_refused');

      // Again: the first revocation stands.
      const again = await call(api.server, 'delete', `/v1/admin/tenants/${tenant.id}/impersonations/${issued.body.grantId}`, operatorToken(api));
      expect(again.status).toBe(200);
      expect(again.body).toEqual(revoked.body);

      const own = (await call(api.server, 'get', '/v1/audit?limit=200', tokenFor(api, tenant))).body.items as Array<Record<string, any>>;
      expect(own.filter((e) => e.action === 'impersonation.revoke')).toEqual([
        expect.objectContaining({ actor: expect.objectContaining({ kind: 'operator', subject: 'operator-2' }), resource: expect.objectContaining({ id: issued.body.grantId }) }),
      ]);
      expect(own.filter((e) => e.action === 'impersonation.use').map((e) => e.outcome).sort()).toEqual(['refused', 'started']);
      const platform = await platformEntries('action=impersonation.revoke');
      expect(platform.filter((e) => e.details?.tenantId === tenant.id)).toHaveLength(1);
    });

    it("answers an unknown grant and another tenant's grant alike", async () => {
      const tenant = await createTenant(api);
      const other = await createTenant(api);
      const issued = await call(api.server, 'post', `/v1/admin/tenants/${other.id}/impersonations`, operatorToken(api), { mode: 'read', reason: 'Ticket 6' });
      expect(issued.status).toBe(201);
      const elsewhere = await call(api.server, 'delete', `/v1/admin/tenants/${tenant.id}/impersonations/${issued.body.grantId}`, operatorToken(api));
      const unknown = await call(api.server, 'delete', `/v1/admin/tenants/${tenant.id}/impersonations/00000000-0000-4000-8000-000000000001`, operatorToken(api));
      expect(elsewhere.status).toBe(404);
      expect(elsewhere.body.code).toBe('impersonation_grant_not_found');
      const strip = (body: Record<string, unknown>) => ({ ...body, instance: undefined, requestId: undefined });
      expect(strip(elsewhere.body)).toEqual(strip(unknown.body));
      // The other tenant's grant still works.
      expect((await call(api.server, 'get', '/v1/customers', operatorToken(api), undefined, { 'x-impersonation-grant': issued.body.grant })).status).toBe(200);
      expect((await call(api.server, 'delete', `/v1/admin/tenants/${tenant.id}/impersonations/not-a-uuid`, operatorToken(api))).status).toBe(400);
    });
  });

  it.each(['pool', 'schema', 'silo'] as const)("answers 409 tenant_trail_unavailable for the trail and grants of a %s tenant still provisioning, never a failed read of storage not made yet", async (isolation) => {
    // Reserved by an onboarding whose saga has not run (or failed): no schema or database exists yet.
    const id = randomUUID();
    expect((await api.admin.reserve(id, { slug: `prov-${id.slice(0, 8)}`, name: 'Provisioning', tier: 'free', isolation }))?.status).toBe('provisioning');
    const operator = operatorToken(api);
    for (const [method, path, body] of [
      ['get', `/v1/admin/tenants/${id}/audit`],
      ['get', `/v1/admin/tenants/${id}/impersonations`],
      ['post', `/v1/admin/tenants/${id}/impersonations`, { reason: 'look at a tenant being made', mode: 'read' }],
      ['delete', `/v1/admin/tenants/${id}/impersonations/${randomUUID()}`],
      ['post', `/v1/admin/tenants/${id}/audit/shred`],
      ['post', `/v1/admin/tenants/${id}/audit/verify`],
    ] as Array<['get' | 'post' | 'delete', string, object?]>) {
      const answer = await call(api.server, method, path, operator, body);
      expect({ path, status: answer.status, code: answer.body.code }).toEqual({ path, status: 409, code: 'tenant_trail_unavailable' });
    }
  });

  it('answers 410 tenant_erased for the trail and grants of an erased tenant, never a failed read of its dropped storage', async () => {
    const gone = await createTenant(api, { tier: 'pro' });
    const operator = operatorToken(api);
    const granted = await call(api.server, 'post', `/v1/admin/tenants/${gone.id}/impersonations`, operator, { mode: 'read', reason: 'before the erasure' });
    expect(granted.status).toBe(201);
    const flag = await call(api.server, 'post', '/v1/admin/flags', operator, { key: `erased-${Date.now().toString(36)}`, defaultValue: false });
    expect(flag.status).toBe(201);
    await withPg(withDatabase(api.config.DATABASE_ADMIN_URL, parsePgUrl(api.config.DATABASE_URL).database), 'audit-test', (client) =>
      client.query(`DROP SCHEMA "${gone.schemaName}" CASCADE`),
    );
    await api.admin.retire(gone.id);
    for (const [method, path, body] of [
      ['get', `/v1/admin/tenants/${gone.id}/audit`],
      ['get', `/v1/admin/tenants/${gone.id}/impersonations`],
      ['post', `/v1/admin/tenants/${gone.id}/impersonations`, { reason: 'look at an erased tenant', mode: 'read' }],
      ['post', `/v1/admin/tenants/${gone.id}/audit/shred`],
      // Its runtime state went with it: nothing may write those keys back, nor read zeros as if it were quiet.
      ['put', `/v1/admin/jobs/tenants/${gone.id}/policy`, { weight: 2 }],
      ['post', `/v1/admin/jobs/tenants/${gone.id}/pause`],
      ['get', `/v1/admin/jobs/tenants/${gone.id}`],
      ['get', `/v1/admin/tenants/${gone.id}/request-counts`],
      ['get', `/v1/admin/tenants/${gone.id}/rate-limits`],
      ['get', `/v1/admin/tenants/${gone.id}/connections`],
      // Its record stays (so a foreign key to it holds), its overrides went with it.
      ['put', `/v1/admin/flags/${flag.body.id}/tenants/${gone.id}`, { value: true }],
    ] as Array<['get' | 'post' | 'put', string, object?]>) {
      const answer = await call(api.server, method, path, operator, body);
      expect({ path, status: answer.status, code: answer.body.code }).toEqual({ path, status: 410, code: 'tenant_erased' });
    }
    // A grant issued before the erasure is refused like any other, not a failed read of the dropped schema.
    expectProblem(await call(api.server, 'get', '/v1/customers', operator, undefined, { 'x-impersonation-grant': granted.body.grant }), 403, 'impersonation_refused');
  });

  it('crypto-shredding: personal data becomes unreadable, the chain still verifies', async () => {
    const tenant = await createTenant(api, { tier: 'pro' });
    expect((await call(api.server, 'post', '/v1/customers', tokenFor(api, tenant, 'alice@example.com'), { name: 'z', email: `z-${tenant.slug}@example.com` })).status).toBe(201);
    const before = (await call(api.server, 'get', '/v1/audit', tokenFor(api, tenant))).body.items;
    expect(before[0].actor.subject).toBe('alice@example.com');

    const shred = await call(api.server, 'post', `/v1/admin/tenants/${tenant.id}/audit/shred`, operatorToken(api));
    expect(shred.status).toBe(200);
    expect(shred.body).toEqual({ shredded: true });

    const after = (await call(api.server, 'get', '/v1/audit', tokenFor(api, tenant))).body.items;
    expect(after[0]).toMatchObject({ seq: '1', personal: 'shredded', actor: { subject: null }, hash: before[0].hash });
    expect(after.map((e: any) => e.action)).toContain('audit.key_shred');
    // New writes still chain, without personal data.
    expect((await call(api.server, 'post', '/v1/customers', tokenFor(api, tenant, 'bob'), { name: 'w', email: `w-${tenant.slug}@example.com` })).status).toBe(201);
    const latest = (await call(api.server, 'get', '/v1/audit?outcome=committed', tokenFor(api, tenant))).body.items.pop();
    expect(latest).toMatchObject({ personal: 'shredded', actor: { subject: null } });
    await api.app.get(AuditChainer).chainNow(tenantContextOf(tenant, 'audit-test'));
    const [report] = await api.app.get(AuditVerifier).verify({ tenant: tenant.id });
    expect(report).toMatchObject({ ok: true, entries: 3 });
    // Nothing in the database can open the sealed subject any more: the wrapped key is gone.
    const config = loadConfig();
    const stored = await withPg(withDatabase(config.DATABASE_ADMIN_URL, parsePgUrl(config.DATABASE_URL).database), 'audit-test', async (client) =>
      (await client.query(`SELECT k.wrapped, e.pii FROM "${tenant.schemaName}".audit_keys k, "${tenant.schemaName}".audit_entries e JOIN "${tenant.schemaName}".audit_links l ON l.tenant_id = e.tenant_id AND l.id = e.id WHERE l.seq = 1`)).rows[0],
    );
    expect(stored.wrapped).toBeNull();
    expect(stored.pii.toString('latin1')).not.toContain('alice');
    expect((await call(api.server, 'post', `/v1/admin/tenants/${tenant.id}/audit/shred`, operatorToken(api))).body).toEqual({ shredded: false });
  });

  it('records lifecycle steps in the tenant trail and the platform trail', async () => {
    const tenant = await createTenant(api);
    await api.app.get(AuditTrail).recordLifecycleStep(tenant, { name: 'provisioned', outcome: 'succeeded', actor: { kind: 'operator', subject: 'operator-1' }, details: { model: 'pool' } });
    const own = (await call(api.server, 'get', '/v1/audit?action=lifecycle.provisioned', tokenFor(api, tenant))).body.items;
    expect(own).toEqual([expect.objectContaining({ outcome: 'succeeded', actor: expect.objectContaining({ kind: 'operator', subject: 'operator-1' }), resource: { type: 'tenants', id: tenant.id } })]);
    expect((await platformEntries('action=lifecycle.provisioned')).some((e) => e.resource?.id === tenant.id)).toBe(true);
  });
});

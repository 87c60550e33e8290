import { randomUUID } from 'node:crypto';
import { connect, type AddressInfo } from 'node:net';
import { TenantRecord } from '@bulkhead/control-plane';
import { call, expectProblem } from './support/http';
import { TokenForge } from './support/forged-tokens';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';

function withoutExp(claims: Record<string, unknown>): Record<string, unknown> {
  const { exp: _exp, ...rest } = claims;
  return rest;
}

/** Every forged, stale or misdirected token gets 401 or 403, never a 500 and never data. */
describe.each(['pool', 'schema', 'silo'] as const)('token attacks against %s tenants', (model) => {
  let api: TestApi;
  let forge: TokenForge;
  let tenantA: TenantRecord;
  let tenantB: TenantRecord;
  let suspended: TenantRecord;

  beforeAll(async () => {
    api = await startTestApi();
    forge = new TokenForge(api.config);
    [tenantA, tenantB, suspended] = await Promise.all([
      createTenant(api, { isolation: model }),
      createTenant(api, { isolation: model }),
      createTenant(api, { isolation: model }),
    ]);
    await call(api.server, 'post', '/v1/customers', tokenFor(api, tenantA), { email: 'secret@a.test', name: 'Secret' });
    await api.admin.suspend(suspended.id);
  });
  afterAll(() => api.close());

  const rows: Array<[string, () => string | undefined, number, string?]> = [
    ['no Authorization header', () => undefined, 401, 'unauthenticated'],
    ['alg: none', () => forge.algNone(forge.claims(tenantA.id)), 401],
    ['HS256 signed with the public key', () => forge.hs256WithPublicKey(forge.claims(tenantA.id)), 401],
    ['tampered payload (tenant swapped)', () => forge.tampered(forge.claims(tenantB.id), { tenant_id: tenantA.id }), 401],
    ['tampered payload (expiry extended)', () => forge.tampered(forge.claims(tenantA.id, { exp: forge.now() - 10 }), { exp: forge.now() + 9999 }), 401],
    ['expired', () => forge.genuine(forge.claims(tenantA.id, { exp: forge.now() - 60 })), 401],
    ['not yet valid (nbf in the future)', () => forge.genuine(forge.claims(tenantA.id, { nbf: forge.now() + 600 })), 401],
    ['no exp at all', () => forge.genuine(withoutExp(forge.claims(tenantA.id))), 401],
    ['exp past any date (1e308)', () => forge.genuine(forge.claims(tenantA.id, { exp: 1e308 })), 401],
    ['issued in the future (iat)', () => forge.genuine(forge.claims(tenantA.id, { iat: forge.now() + 600 })), 401],
    ['a critical header extension nobody understands', () => forge.genuine(forge.claims(tenantA.id), { header: { alg: 'RS256', crit: ['x-ext'], 'x-ext': true } as never }), 401],
    ['wrong issuer', () => forge.genuine(forge.claims(tenantA.id, { iss: 'https://evil.test/' })), 401],
    ['wrong audience', () => forge.genuine(forge.claims(tenantA.id, { aud: 'some-other-api' })), 401],
    ['unknown kid', () => forge.foreignKey(forge.claims(tenantA.id)), 401],
    ['genuine kid, attacker RSA key', () => forge.foreignKey(forge.claims(tenantA.id), forge.genuineKid()), 401],
    ['genuine kid, attacker ES256 key', () => forge.foreignKey(forge.claims(tenantA.id), forge.genuineKid(), 'ES256'), 401],
    ['RS384 (algorithm not allowed)', () => forge.genuine(forge.claims(tenantA.id), { algorithm: 'RS384' }), 401],
    ['malformed: not a JWT', () => 'not-a-token', 401],
    ['malformed: three garbage segments', () => 'a.b.c', 401],
    ['malformed: 8 KB of junk', () => 'x'.repeat(8 * 1024), 401],
    ['tenant claim not a string', () => forge.genuine(forge.claims(undefined, { tenant_id: { $ne: null } })), 401],
    ['missing tenant claim', () => forge.genuine(forge.claims(undefined)), 403, 'tenant_required'],
    ['operator token on a tenant route', () => operatorToken(api), 403, 'tenant_required'],
    ['unknown tenant', () => forge.genuine(forge.claims(randomUUID())), 403, 'tenant_unavailable'],
    ['tenant claim that is not a uuid', () => forge.genuine(forge.claims("' OR 1=1 --")), 403, 'tenant_unavailable'],
    ['suspended tenant', () => forge.genuine(forge.claims(suspended.id)), 403, 'tenant_suspended'],
  ];

  // Objects, not arrays: jest would take a missing trailing column for a `done` callback.
  const cases = rows.map(([name, token, status, code]) => ({ name, token, status, code }));

  it.each(cases)('$name -> $status', async ({ token, status, code }) => {
    for (const path of ['/v1/customers', '/v1/orders']) {
      const response = await call(api.server, 'get', path, token());
      expectProblem(response, status, code);
      expect(response.text).not.toContain('secret@a.test');
      expect(response.body.items).toBeUndefined();
    }
  });

  it('refuses two Authorization headers, even when the first is valid (a proxy may have read the other)', async () => {
    for (const second of [forge.genuine(forge.claims(tenantB.id)), 'garbage']) {
      const response = await call(api.server, 'get', '/v1/customers', undefined, undefined, { authorization: [`Bearer ${tokenFor(api, tenantA)}`, `Bearer ${second}`] as never });
      expectProblem(response, 401);
    }
    expect((await call(api.server, 'get', '/v1/customers', tokenFor(api, tenantA))).status).toBe(200);
  });

  it('401 answers carry a Bearer challenge', async () => {
    const response = await call(api.server, 'get', '/v1/customers', 'a.b.c');
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  describe('tenant named by the request', () => {
    const host = (slug: string) => `${slug}.${api.config.TENANT_BASE_DOMAIN}`;

    it("a token for A with B's subdomain is 403", async () => {
      const response = await call(api.server, 'get', '/v1/customers', tokenFor(api, tenantA), undefined, { Host: host(tenantB.slug) });
      expectProblem(response, 403, 'tenant_mismatch');
    });

    it("a token for A with B's id or slug in X-Tenant-Id is 403", async () => {
      for (const named of [tenantB.id, tenantB.slug]) {
        const response = await call(api.server, 'get', '/v1/customers', tokenFor(api, tenantA), undefined, { 'X-Tenant-Id': named });
        expectProblem(response, 403, 'tenant_mismatch');
      }
    });

    it("the host's absolute form (a trailing dot) and its case are not a way around the check", async () => {
      // The last one: B's host with a full-width dot (U+FF0E as UTF-8 bytes, which Node reads as latin1).
      for (const named of [`${host(tenantB.slug)}.`, `${host(tenantB.slug)}..`, `${host(tenantB.slug)}.:443`, host(tenantB.slug).toUpperCase(), `${tenantB.slug}\u00ef\u00bc\u008e${api.config.TENANT_BASE_DOMAIN}`]) {
        const response = await call(api.server, 'get', '/v1/customers', tokenFor(api, tenantA), undefined, { Host: named });
        expectProblem(response, 403, 'tenant_mismatch');
      }
      expect((await call(api.server, 'get', '/v1/customers', tokenFor(api, tenantA), undefined, { Host: `${host(tenantA.slug)}.` })).status).toBe(200);
    });

    it("B's host in the request target's absolute form, or in a second Host header, is not a way around the check", async () => {
      if (!api.server.listening) await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
      const { port } = api.server.address() as AddressInfo;
      const statusOf = (head: string) =>
        new Promise<number>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => socket.write(`${head}Authorization: Bearer ${tokenFor(api, tenantA)}\r\nConnection: close\r\n\r\n`));
          const chunks: Buffer[] = [];
          socket.on('data', (chunk) => chunks.push(chunk));
          socket.on('error', reject);
          socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(chunks).toString())?.[1])));
        });
      // RFC 9112 3.2.2: the target's host wins over Host.
      expect(await statusOf(`GET http://${host(tenantB.slug)}/v1/customers HTTP/1.1\r\nHost: x\r\n`)).toBe(403);
      expect(await statusOf(`GET http://${host(tenantA.slug)}/v1/customers HTTP/1.1\r\nHost: ${host(tenantA.slug)}\r\n`)).toBe(200);
      // RFC 9112 3.2: more than one Host is a 400, whichever tenant each names.
      expect(await statusOf(`GET /v1/customers HTTP/1.1\r\nHost: ${host(tenantA.slug)}\r\nHost: ${host(tenantB.slug)}\r\n`)).toBe(400);
    });

    it('a nested subdomain is not a way around the check', async () => {
      const response = await call(api.server, 'get', '/v1/customers', tokenFor(api, tenantA), undefined, { Host: `${tenantA.slug}.${host(tenantB.slug)}` });
      expectProblem(response, 403, 'tenant_mismatch');
    });

    it("A's own subdomain, id and slug are accepted", async () => {
      const token = tokenFor(api, tenantA);
      expect((await call(api.server, 'get', '/v1/customers', token, undefined, { Host: host(tenantA.slug) })).status).toBe(200);
      expect((await call(api.server, 'get', '/v1/customers', token, undefined, { 'X-Tenant-Id': tenantA.id })).status).toBe(200);
      expect((await call(api.server, 'get', '/v1/customers', token, undefined, { 'X-Tenant-Id': tenantA.slug })).status).toBe(200);
      // In capitals too, as the id and the host already were; B's slug in capitals is still B's.
      expect((await call(api.server, 'get', '/v1/customers', token, undefined, { 'X-Tenant-Id': tenantA.slug.toUpperCase() })).status).toBe(200);
      expectProblem(await call(api.server, 'get', '/v1/customers', token, undefined, { 'X-Tenant-Id': tenantB.slug.toUpperCase() }), 403, 'tenant_mismatch');
    });
  });

  describe('operator routes', () => {
    it('refuse a tenant token, even one that also claims the operator scope', async () => {
      const plain = await call(api.server, 'get', '/v1/admin/tenants', tokenFor(api, tenantA));
      expectProblem(plain, 403, 'operator_required');
      const both = api.issuer.mint({ subject: 'sneaky', tenantId: tenantA.id, scopes: [api.config.AUTH_OPERATOR_SCOPE] });
      expectProblem(await call(api.server, 'get', '/v1/admin/tenants', both), 403, 'operator_required');
    });

    it('refuse a token without the operator scope', async () => {
      const token = api.issuer.mint({ subject: 'nobody', scopes: ['read'] });
      expectProblem(await call(api.server, 'get', '/v1/admin/tenants', token), 403, 'operator_required');
    });

    it('refuse forged operator tokens with 401', async () => {
      const forged = forge.algNone(forge.claims(undefined, { scope: api.config.AUTH_OPERATOR_SCOPE }));
      expectProblem(await call(api.server, 'get', '/v1/admin/tenants', forged), 401);
    });
  });
});

describe('tenant claim from an identity provider (Auth0 org_id)', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi({ AUTH_TENANT_CLAIM: 'org_id', AUTH_TENANT_CLAIM_REFERS_TO: 'external_ref' });
  });
  afterAll(() => api.close());

  it('resolves the tenant from org_id through its external reference', async () => {
    const orgId = `org_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const tenant = await createTenant(api, { externalRef: orgId });
    const token = api.issuer.mint({ subject: 'auth0|123', tenantId: orgId });
    const created = await call(api.server, 'post', '/v1/customers', token, { email: 'o@org.test', name: 'Org user' });
    expect(created.status).toBe(201);
    const other = api.issuer.mint({ subject: 'auth0|456', tenantId: 'org_unknown' });
    expectProblem(await call(api.server, 'get', '/v1/customers', other), 403, 'tenant_unavailable');
    const byUuid = api.issuer.mint({ subject: 'auth0|789', tenantId: tenant.id });
    expectProblem(await call(api.server, 'get', '/v1/customers', byUuid), 403, 'tenant_unavailable');
  });
});

import { TenantRecord } from '@bulkhead/control-plane';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { sign } from 'jsonwebtoken';
import { createTenant, startTestApi, TestApi } from './support/test-app';
import { TestIdentityProvider } from './support/test-identity-provider';

/** An audience that is a URI, as Auth0, Okta and Entra ID issue them. */
const AUDIENCE = 'https://api.bulkhead.test';
const COOLDOWN_MS = 200;
const FORGED = 200;

interface Answer {
  status: number;
  code?: string;
  retryAfter: string | null;
}

/**
 * The key set from a provider over real HTTP, DEV_ISSUER off: unknown kids neither refuse nor
 * delay valid callers, a dropped key stops working within AUTH_JWKS_MAX_AGE_MS (at once when a
 * refresh sees it gone), a new key works on first use, and AUTH_ISSUER alone is enough.
 */
describe('keys from an identity provider', () => {
  let provider: TestIdentityProvider;
  let signingKid: string;
  const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

  beforeAll(async () => {
    provider = await TestIdentityProvider.start();
    signingKid = provider.addKey();
  });
  afterAll(() => provider.close());

  const claims = (tenant: TenantRecord) => ({
    sub: 'user-1',
    tenant_id: tenant.id,
    iss: provider.issuer,
    aud: AUDIENCE,
    exp: Math.floor(Date.now() / 1000) + 600,
  });
  const forgedTokens = (tenant: TenantRecord) =>
    Array.from({ length: FORGED }, () => sign(claims(tenant), attacker, { algorithm: 'RS256', keyid: randomUUID() }));

  async function listen(env: Record<string, string>): Promise<{ api: TestApi; base: string }> {
    const api = await startTestApi({ DEV_ISSUER: 'false', AUTH_ISSUER: provider.issuer, AUTH_AUDIENCE: AUDIENCE, AUTH_JWKS_COOLDOWN_MS: String(COOLDOWN_MS), ...env });
    await api.app.listen(0, '127.0.0.1');
    return { api, base: `http://127.0.0.1:${(api.server.address() as AddressInfo).port}` };
  }

  async function get(base: string, token: string): Promise<Answer> {
    const response = await fetch(`${base}/v1/customers`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json()) as { code?: string };
    return { status: response.status, code: body.code, retryAfter: response.headers.get('retry-after') };
  }

  /**
   * 200 forged requests (random kids) at once, and valid ones in 4 lanes beside them. The
   * provider answers `answered` fetches and holds the later ones open, so whatever the forged kids
   * ask of it stays in flight until every valid request has its answer.
   */
  async function flood(base: string, tenant: TenantRecord, answered: number) {
    const forged = forgedTokens(tenant);
    const fetchesBefore = provider.fetches;
    provider.holdFetches(answered);
    let forgedSettled = 0;
    const forgedAnswers = forged.map((token) => get(base, token).finally(() => forgedSettled++));
    const validAnswers: Answer[] = [];
    const lanes = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 10; i++) validAnswers.push(await get(base, provider.sign(signingKid, claims(tenant))));
    });
    await Promise.all(lanes);
    const whenValidDone = { forgedPending: FORGED - forgedSettled, fetchesHeld: provider.held };
    provider.release();
    const forgedStatuses = (await Promise.all(forgedAnswers)).map((answer) => answer.status);
    return { validAnswers, forgedStatuses, whenValidDone, fetches: provider.fetches - fetchesBefore };
  }

  describe('with AUTH_JWKS_URI', () => {
    let api: TestApi;
    let base: string;
    let tenant: TenantRecord;

    beforeAll(async () => {
      ({ api, base } = await listen({ AUTH_JWKS_URI: provider.jwksUri }));
      tenant = await createTenant(api);
    });
    afterAll(() => api.close());

    it('a forged-kid flood at a fresh API neither refuses nor holds up valid requests', async () => {
      const maxConcurrentBefore = provider.maxConcurrentFetches;
      const result = await flood(base, tenant, 1);
      expect(result.validAnswers.map((answer) => answer.status)).toEqual(Array(40).fill(200));
      // The valid requests were answered while forged ones still waited on a held fetch.
      expect(result.whenValidDone.forgedPending).toBeGreaterThan(0);
      // The forged kids' fetch is held by the provider, or not yet sent (it waits out the cooldown).
      expect(result.whenValidDone.fetchesHeld).toBeLessThanOrEqual(1);
      expect(new Set(result.forgedStatuses)).toEqual(new Set([401]));
      // One fetch for the fresh set, then one at a time for the forged kids: the one held, and
      // at most one more for the kids that arrived after it had left.
      expect(result.fetches).toBeLessThanOrEqual(3);
      expect(Math.max(maxConcurrentBefore, provider.maxConcurrentFetches)).toBe(1);
    });

    it('accepts a new key on first use, and refuses a dropped one as soon as that refresh shows it gone', async () => {
      const retiring = provider.addKey('ES256');
      const retiringToken = provider.sign(retiring, claims(tenant));
      expect((await get(base, retiringToken)).status).toBe(200);
      provider.dropKey(retiring);
      // Within the max age (60 s here) and with no refresh since, the set in memory still has it.
      expect((await get(base, retiringToken)).status).toBe(200);

      const added = provider.addKey('ES256');
      expect((await get(base, provider.sign(added, claims(tenant)))).status).toBe(200);
      expect(await get(base, retiringToken)).toMatchObject({ status: 401, code: 'unauthenticated' });
      expect((await get(base, provider.sign(signingKid, claims(tenant)))).status).toBe(200);
    });
  });

  describe('with AUTH_ISSUER alone (OpenID discovery) and a short max age', () => {
    const MAX_AGE_MS = 3000;
    let api: TestApi;
    let base: string;
    let tenant: TenantRecord;

    beforeAll(async () => {
      ({ api, base } = await listen({ AUTH_JWKS_MAX_AGE_MS: String(MAX_AGE_MS) }));
      tenant = await createTenant(api);
    });
    afterAll(() => api.close());

    it('finds the key set through the discovery document', async () => {
      expect(api.config.AUTH_JWKS_URI).toBeUndefined();
      const fetchesBefore = provider.fetches;
      expect((await get(base, provider.sign(signingKid, claims(tenant)))).status).toBe(200);
      expect(provider.fetches).toBe(fetchesBefore + 1);
    });

    it('a forged-kid flood once the set has expired neither refuses nor holds up valid requests', async () => {
      await sleep(MAX_AGE_MS + COOLDOWN_MS + 100);
      const result = await flood(base, tenant, 1);
      expect(result.validAnswers.map((answer) => answer.status)).toEqual(Array(40).fill(200));
      expect(result.whenValidDone.forgedPending).toBeGreaterThan(0);
      // The forged kids' fetch is held by the provider, or not yet sent (it waits out the cooldown).
      expect(result.whenValidDone.fetchesHeld).toBeLessThanOrEqual(1);
      expect(new Set(result.forgedStatuses)).toEqual(new Set([401]));
      expect(result.fetches).toBeLessThanOrEqual(3);
      expect(provider.maxConcurrentFetches).toBe(1);
    });

    it('refuses a key the provider dropped once the max age has passed, without any refresh in between', async () => {
      const dropped = provider.addKey();
      const token = provider.sign(dropped, claims(tenant));
      expect((await get(base, token)).status).toBe(200);
      provider.dropKey(dropped);
      expect((await get(base, token)).status).toBe(200);
      await sleep(MAX_AGE_MS + 50);
      expect(await get(base, token)).toMatchObject({ status: 401, code: 'unauthenticated' });
      expect((await get(base, provider.sign(signingKid, claims(tenant)))).status).toBe(200);
    });

    it('answers 503 rather than trust a set past its max age when the provider cannot be reached', async () => {
      provider.failing = true;
      try {
        await sleep(MAX_AGE_MS + COOLDOWN_MS + 100);
        const answer = await get(base, provider.sign(signingKid, claims(tenant)));
        expect(answer).toEqual({ status: 503, code: 'identity_provider_unavailable', retryAfter: '5' });
      } finally {
        provider.failing = false;
      }
      expect((await get(base, provider.sign(signingKid, claims(tenant)))).status).toBe(200);
    });
  });
});

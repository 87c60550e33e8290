import { loadConfig } from './bulkhead-config';

describe('token verification settings', () => {
  it('accept an audience and an issuer that are URIs', () => {
    const config = loadConfig({ AUTH_AUDIENCE: 'https://api.example.com', AUTH_ISSUER: 'https://sso.example.com/realms/acme' });
    expect(config.AUTH_AUDIENCE).toBe('https://api.example.com');
    expect(config.AUTH_ISSUER).toBe('https://sso.example.com/realms/acme');
  });

  it('default to a key-set max age of at most a minute', () => {
    expect(loadConfig({}).AUTH_JWKS_MAX_AGE_MS).toBeLessThanOrEqual(60_000);
  });

  it('refuse a fetch cooldown longer than half the key-set max age', () => {
    expect(() => loadConfig({ AUTH_JWKS_MAX_AGE_MS: '4000', AUTH_JWKS_COOLDOWN_MS: '2500' })).toThrow(
      /AUTH_JWKS_COOLDOWN_MS: must be at most half of AUTH_JWKS_MAX_AGE_MS/,
    );
  });
});

describe('rate limit settings', () => {
  it('parse each tier into requests per minute by route class', () => {
    const config = loadConfig({ RATE_LIMIT_PRO: 'read:10, write:5,export:1,ingest:2' });
    expect(config.rateLimits.pro).toEqual({ read: 10, write: 5, export: 1, ingest: 2 });
    expect(config.rateLimits.free.read).toBeGreaterThan(0);
  });

  it('refuse a tier that leaves a class out, repeats one or names an unknown one', () => {
    expect(() => loadConfig({ RATE_LIMIT_FREE: 'read:10,write:5,export:1' })).toThrow(/RATE_LIMIT_FREE: missing ingest/);
    expect(() => loadConfig({ RATE_LIMIT_FREE: 'read:10,read:5,export:1,ingest:1' })).toThrow(/RATE_LIMIT_FREE: must list each of read, write, export, ingest once/);
    expect(() => loadConfig({ RATE_LIMIT_ENTERPRISE: 'read:10,write:5,export:1,ingest:1,search:3' })).toThrow(/RATE_LIMIT_ENTERPRISE/);
    expect(() => loadConfig({ RATE_LIMIT_FREE: 'read:0,write:5,export:1,ingest:1' })).toThrow(/read must be between 1/);
  });
});

describe('database clusters', () => {
  const eu = { region: 'eu-west', url: 'postgres://app:app@eu:5432/bulkhead', ownerUrl: 'postgres://owner:owner@eu:5432/bulkhead' };

  it('put main first, with the admin URL, then each extra cluster with its optional admin URL', () => {
    const config = loadConfig({ DATABASE_CLUSTERS: JSON.stringify({ eu, eu2: { ...eu, adminUrl: 'postgres://postgres@eu2:5432/postgres' } }) });
    expect(config.clusters.map((cluster) => [cluster.key, cluster.adminUrl])).toEqual([
      ['main', config.DATABASE_ADMIN_URL],
      ['eu', undefined],
      ['eu2', 'postgres://postgres@eu2:5432/postgres'],
    ]);
  });

  it('refuse a cluster redefining main, without a region, or with an admin URL that is not postgres://', () => {
    expect(() => loadConfig({ DATABASE_CLUSTERS: JSON.stringify({ main: eu }) })).toThrow(/may not redefine the main cluster/);
    expect(() => loadConfig({ DATABASE_CLUSTERS: JSON.stringify({ eu: { ...eu, region: '' } }) })).toThrow(/cluster eu needs a key/);
    expect(() => loadConfig({ DATABASE_CLUSTERS: JSON.stringify({ eu: { ...eu, adminUrl: 'mysql://x' } }) })).toThrow(/adminUrl must be a postgres:\/\/ url/);
    expect(() => loadConfig({ DATABASE_CLUSTERS: '{not json' })).toThrow(/DATABASE_CLUSTERS: must be JSON/);
  });
});

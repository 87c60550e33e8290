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

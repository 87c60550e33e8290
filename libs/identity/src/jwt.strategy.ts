import { BulkheadConfig, ConfigError } from '@bulkhead/config';
import { Inject, Injectable, Optional, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { passportJwtSecret } from 'jwks-rsa';
import { createPublicKey, KeyObject } from 'node:crypto';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { DevIssuer } from './dev-issuer';
import { Principal } from './principal';

/** A placeholder URI that is never fetched: with the dev issuer the keys come from the interceptor. */
const DEV_JWKS_URI = 'http://dev-issuer.invalid/.well-known/jwks.json';

/**
 * Verifies bearer tokens against a JWKS. Algorithms are pinned (RS256/ES256 only: `none` and
 * HS256-with-the-public-key are refused before any key is looked up), `iss` and `aud` must match,
 * and `exp` must be present: jsonwebtoken would otherwise accept a token that never expires.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    private readonly config: BulkheadConfig,
    @Optional() @Inject(DevIssuer) devIssuer?: DevIssuer | null,
  ) {
    if (!config.AUTH_JWKS_URI && !config.DEV_ISSUER) {
      throw new ConfigError(
        'Invalid configuration:\n  - AUTH_JWKS_URI: set it to your identity provider\'s JWKS URL, or set DEV_ISSUER=true to use the built-in development issuer',
      );
    }
    const devKeys = !config.AUTH_JWKS_URI && config.DEV_ISSUER ? devIssuer : null;
    const keys = passportJwtSecret({
      jwksUri: config.AUTH_JWKS_URI ?? DEV_JWKS_URI,
      cache: true,
      cacheMaxEntries: 10,
      cacheMaxAge: 10 * 60 * 1000,
      // An unknown `kid` makes jwks-rsa refetch the set; the limit keeps forged tokens from
      // turning into a flood against the identity provider.
      rateLimit: true,
      jwksRequestsPerMinute: 10,
      timeout: 5000,
      ...(devKeys ? { fetcher: async () => devKeys.jwks() } : {}),
    });
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: (request: unknown, rawToken: string, done: (error: unknown, key?: string | Buffer) => void) =>
        keys(request, rawToken, (error, pem) => {
          if (error || !pem) return done(error, undefined);
          // jsonwebtoken parses a PEM string into a KeyObject on every verify; parse each key once.
          done(null, parsedKey(pem) as unknown as string);
        }),
      algorithms: config.AUTH_ALGORITHMS,
      issuer: config.AUTH_ISSUER,
      audience: config.AUTH_AUDIENCE,
      ignoreExpiration: false,
      jsonWebTokenOptions: { clockTolerance: 5 },
    });
  }

  validate(payload: Record<string, unknown>): Principal {
    if (typeof payload.exp !== 'number') throw new UnauthorizedException('The token has no expiry.');
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 255) {
      throw new UnauthorizedException('The token has no subject.');
    }
    const tenantClaim = payload[this.config.AUTH_TENANT_CLAIM];
    if (tenantClaim !== undefined && (typeof tenantClaim !== 'string' || tenantClaim.length === 0 || tenantClaim.length > 200)) {
      throw new UnauthorizedException('The tenant claim is malformed.');
    }
    const scopes = scopesOf(payload);
    return {
      subject: payload.sub,
      tenantId: tenantClaim,
      scopes,
      operator: scopes.includes(this.config.AUTH_OPERATOR_SCOPE),
    };
  }
}

const parsedKeys = new Map<string, KeyObject>();

function parsedKey(pem: string | Buffer): KeyObject {
  const text = pem.toString();
  let key = parsedKeys.get(text);
  if (!key) {
    // Key sets are small and rotate rarely; the bound only guards against unbounded growth.
    if (parsedKeys.size >= 64) parsedKeys.clear();
    key = createPublicKey(text);
    parsedKeys.set(text, key);
  }
  return key;
}

/** OAuth `scope` (space-separated), Azure/Okta `scp`, Auth0 `permissions`. */
function scopesOf(payload: Record<string, unknown>): string[] {
  const scopes: string[] = [];
  if (typeof payload.scope === 'string') scopes.push(...payload.scope.split(' ').filter(Boolean));
  for (const claim of [payload.scp, payload.permissions]) {
    if (Array.isArray(claim)) scopes.push(...claim.filter((value): value is string => typeof value === 'string'));
    else if (typeof claim === 'string') scopes.push(...claim.split(' ').filter(Boolean));
  }
  return scopes;
}

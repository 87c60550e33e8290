import { BulkheadConfig } from '@bulkhead/config';
import { Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { KeyObject } from 'node:crypto';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { UnusableTokenKey } from './identity.errors';
import { KeySetResolver } from './key-set-resolver';
import { Principal } from './principal';

/**
 * Verifies bearer tokens against the provider's key set. Algorithms are pinned (RS256/ES256 only:
 * `none` and HS256-with-the-public-key are refused before any key is looked up, so they never
 * cause a fetch), `iss` and `aud` must match, and `exp` must be present: jsonwebtoken would
 * otherwise accept a token that never expires.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    private readonly config: BulkheadConfig,
    keys: KeySetResolver,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: (_request: unknown, rawToken: string, done: (error: unknown, key?: string | Buffer) => void) => {
        const header = headerOf(rawToken);
        if (!header || !(config.AUTH_ALGORITHMS as readonly string[]).includes(header.alg)) {
          return done(new UnusableTokenKey('no kid, or an algorithm that is not allowed'));
        }
        // jsonwebtoken takes a KeyObject as well as a PEM; passing the parsed one saves a parse per request.
        keys.keyFor(header.kid, header.alg).then((key: KeyObject) => done(null, key as unknown as string), (error: unknown) => done(error));
      },
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

/** The token's `kid` and `alg`, unverified: they only choose the key the signature is then checked with. */
function headerOf(rawToken: string): { kid: string; alg: string } | undefined {
  try {
    const header = JSON.parse(Buffer.from(rawToken.split('.')[0], 'base64url').toString('utf8')) as { kid?: unknown; alg?: unknown };
    if (typeof header.kid !== 'string' || header.kid.length === 0 || header.kid.length > 256 || typeof header.alg !== 'string') return undefined;
    return { kid: header.kid, alg: header.alg };
  } catch {
    return undefined;
  }
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

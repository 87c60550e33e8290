import { BulkheadConfig } from '@bulkhead/config';
import { Injectable, UnauthorizedException } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import type { KeyObject } from 'node:crypto';
import { IdentityProviderUnavailableProblem, UnusableTokenKey } from './identity.errors';
import { KeySetResolver } from './key-set-resolver';
import { Principal } from './principal';

/** Seconds of clock skew allowed on `exp` and `nbf`. */
const CLOCK_TOLERANCE_S = 5;
/** 9999-12-31T23:59:59Z: a later `exp` is no date (1e308 would make a remembered token immortal). */
const LAST_NUMERIC_DATE = 253_402_300_799;
/** Verified tokens remembered at once, at most; past it the oldest is forgotten first. */
const VERIFIED_MAX = 10_000;

interface Verified {
  readonly principal: Principal;
  readonly kid: string;
  /** The key that verified it: a hit counts only while the current key set still holds this very key. */
  readonly key: KeyObject;
  readonly expiresAtMs: number;
  readonly notBeforeMs: number;
}

/**
 * Turns a bearer token into a `Principal`. Algorithms are pinned (a `none` or HS256 token is
 * refused before any key is looked up, so it never causes a fetch), `iss` and `aud` must match,
 * `exp` must be present (jsonwebtoken would otherwise accept a token that never expires).
 *
 * A token that verified is remembered by its exact text until it expires, so a client that sends
 * the same token again costs a map lookup rather than a signature check. The memory never
 * outlives the key: a hit is honoured only while the key set the resolver trusts right now still
 * maps the token's kid to the key that verified it, so a key dropped by the provider (or a set
 * past its max age) ends the token's hits at the same moment it would end a fresh verification.
 */
@Injectable()
export class TokenVerifier {
  private readonly verified = new Map<string, Verified>();
  private readonly options: jwt.VerifyOptions & { complete: false };

  constructor(
    private readonly config: BulkheadConfig,
    private readonly keys: KeySetResolver,
  ) {
    this.options = {
      algorithms: [...config.AUTH_ALGORITHMS],
      issuer: config.AUTH_ISSUER,
      audience: config.AUTH_AUDIENCE,
      clockTolerance: CLOCK_TOLERANCE_S,
      complete: false,
    };
  }

  /** Throws `UnauthorizedException` (the reason stays in the server) or `IdentityProviderUnavailableProblem` (503). */
  async verify(token: string): Promise<Principal> {
    const remembered = this.verified.get(token);
    if (remembered) {
      const now = Date.now();
      if (now < remembered.expiresAtMs && now >= remembered.notBeforeMs && this.keys.currentKey(remembered.kid) === remembered.key) return remembered.principal;
      this.verified.delete(token);
    }
    const header = headerOf(token);
    if (!header || !(this.config.AUTH_ALGORITHMS as readonly string[]).includes(header.alg)) throw invalid();
    let key: KeyObject;
    try {
      key = await this.keys.keyFor(header.kid, header.alg);
    } catch (error) {
      if (error instanceof IdentityProviderUnavailableProblem) throw error;
      if (error instanceof UnusableTokenKey) throw invalid();
      throw error;
    }
    let payload: Record<string, unknown>;
    try {
      payload = jwt.verify(token, key, this.options) as Record<string, unknown>;
    } catch {
      throw invalid();
    }
    const principal = this.principalOf(payload);
    this.remember(token, {
      principal,
      kid: header.kid,
      key,
      expiresAtMs: ((payload.exp as number) + CLOCK_TOLERANCE_S) * 1000,
      notBeforeMs: typeof payload.nbf === 'number' ? (payload.nbf - CLOCK_TOLERANCE_S) * 1000 : 0,
    });
    return principal;
  }

  private principalOf(payload: Record<string, unknown>): Principal {
    if (typeof payload !== 'object' || payload === null || !isNumericDate(payload.exp)) throw invalid();
    // Whatever jsonwebtoken lets through: a time that is no date (1e308 would be remembered for
    // ever) or a token issued in the future (a skewed or forging issuer).
    if ((payload.nbf !== undefined && !isNumericDate(payload.nbf)) || (payload.iat !== undefined && !isNumericDate(payload.iat))) throw invalid();
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + CLOCK_TOLERANCE_S) throw invalid();
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 255) throw invalid();
    const tenantClaim = payload[this.config.AUTH_TENANT_CLAIM];
    if (tenantClaim !== undefined && (typeof tenantClaim !== 'string' || tenantClaim.length === 0 || tenantClaim.length > 200)) throw invalid();
    const scopes = scopesOf(payload);
    return Object.freeze({
      subject: payload.sub,
      tenantId: tenantClaim,
      scopes: Object.freeze(scopes),
      operator: scopes.includes(this.config.AUTH_OPERATOR_SCOPE),
    });
  }

  private remember(token: string, entry: Verified): void {
    if (this.verified.size >= VERIFIED_MAX) {
      // Maps iterate in insertion order: the first key is the oldest entry.
      const oldest = this.verified.keys().next().value as string;
      this.verified.delete(oldest);
    }
    this.verified.set(token, entry);
  }
}

/** The reason (expired, bad signature, unknown key...) stays out of the response on purpose. */
function invalid(): UnauthorizedException {
  return new UnauthorizedException('The bearer token is missing or invalid.');
}

/** The token's `kid` and `alg`, unverified: they only choose the key the signature is then checked with. */
function headerOf(token: string): { kid: string; alg: string } | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')) as { kid?: unknown; alg?: unknown; crit?: unknown };
    if (typeof header !== 'object' || header === null) return undefined;
    // RFC 7515 4.1.11: extensions listed as critical must be understood, and this verifier understands none.
    if (header.crit !== undefined) return undefined;
    if (typeof header.kid !== 'string' || header.kid.length === 0 || header.kid.length > 256 || typeof header.alg !== 'string') return undefined;
    return { kid: header.kid, alg: header.alg };
  } catch {
    return undefined;
  }
}

/** A JWT NumericDate this verifier can act on: seconds from 1970 to 9999-12-31. */
function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= LAST_NUMERIC_DATE;
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

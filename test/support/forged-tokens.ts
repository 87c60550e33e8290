import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sign, SignOptions } from 'jsonwebtoken';
import { BulkheadConfig } from '@bulkhead/config';

const b64url = (value: object | string) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Hand-crafted tokens for the attack suite, signed with the real dev key or with attacker keys. */
export class TokenForge {
  private readonly key: KeyObject;
  private readonly kid: string;

  constructor(private readonly config: BulkheadConfig) {
    const stored = JSON.parse(readFileSync(config.DEV_ISSUER_KEY_FILE, 'utf8')) as { kid: string; privateJwk: object };
    this.key = createPrivateKey({ key: stored.privateJwk as never, format: 'jwk' });
    this.kid = stored.kid;
  }

  now(): number {
    return Math.floor(Date.now() / 1000);
  }

  claims(tenantId: string | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      sub: 'attacker',
      iss: this.config.AUTH_ISSUER,
      aud: this.config.AUTH_AUDIENCE,
      iat: this.now(),
      exp: this.now() + 600,
      ...(tenantId !== undefined ? { [this.config.AUTH_TENANT_CLAIM]: tenantId } : {}),
      ...extra,
    };
  }

  /** Signed with the genuine key: everything valid unless the claims say otherwise. */
  genuine(claims: Record<string, unknown>, options: SignOptions = {}): string {
    return sign(claims, this.key, { algorithm: 'RS256', keyid: this.kid, ...options });
  }

  algNone(claims: Record<string, unknown>): string {
    return `${b64url({ alg: 'none', typ: 'JWT', kid: this.kid })}.${b64url(claims)}.`;
  }

  /** The classic confusion: HS256 with the issuer's public key as the HMAC secret. */
  hs256WithPublicKey(claims: Record<string, unknown>): string {
    const publicPem = createPublicKey(this.key).export({ format: 'pem', type: 'spki' }).toString();
    const head = `${b64url({ alg: 'HS256', typ: 'JWT', kid: this.kid })}.${b64url(claims)}`;
    return `${head}.${createHmac('sha256', publicPem).update(head).digest('base64url')}`;
  }

  tampered(claims: Record<string, unknown>, change: Record<string, unknown>): string {
    const [head, , signature] = this.genuine(claims).split('.');
    return `${head}.${b64url({ ...claims, ...change })}.${signature}`;
  }

  foreignKey(claims: Record<string, unknown>, kid: string = randomUUID(), algorithm: 'RS256' | 'ES256' = 'RS256'): string {
    const { privateKey } =
      algorithm === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return sign(claims, privateKey, { algorithm, keyid: kid });
  }

  genuineKid(): string {
    return this.kid;
  }
}

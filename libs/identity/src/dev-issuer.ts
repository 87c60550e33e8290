import { BulkheadConfig } from '@bulkhead/config';
import { Injectable } from '@nestjs/common';
import { generateKeyPairSync, createPrivateKey, createPublicKey, randomUUID, JsonWebKey } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { sign } from 'jsonwebtoken';

interface StoredKey {
  kid: string;
  privateJwk: JsonWebKey;
}

export interface PublicJwk extends JsonWebKey {
  kid: string;
  alg: 'RS256';
  use: 'sig';
}

export interface MintOptions {
  subject: string;
  tenantId?: string;
  scopes?: string[];
  expiresInSeconds?: number;
  claims?: Record<string, unknown>;
}

/**
 * The platform's own token issuer for development and tests: one RSA key pair kept in a local file,
 * published as a JWKS and used to mint tokens. In production DEV_ISSUER stays off and the same
 * verification settings point at a real OIDC issuer.
 */
@Injectable()
export class DevIssuer {
  private readonly key: StoredKey;
  private readonly publicSet: { keys: PublicJwk[] };

  constructor(private readonly config: BulkheadConfig) {
    this.key = loadOrCreateKey(config.DEV_ISSUER_KEY_FILE);
    const publicJwk = createPublicKey({ key: this.key.privateJwk, format: 'jwk' }).export({ format: 'jwk' });
    this.publicSet = { keys: [{ ...publicJwk, kid: this.key.kid, alg: 'RS256', use: 'sig' }] };
  }

  get kid(): string {
    return this.key.kid;
  }

  jwks(): { keys: PublicJwk[] } {
    return this.publicSet;
  }

  mint(options: MintOptions): string {
    const claims: Record<string, unknown> = { ...options.claims };
    if (options.tenantId !== undefined) claims[this.config.AUTH_TENANT_CLAIM] = options.tenantId;
    if (options.scopes?.length) claims.scope = options.scopes.join(' ');
    return sign(claims, createPrivateKey({ key: this.key.privateJwk, format: 'jwk' }), {
      algorithm: 'RS256',
      keyid: this.key.kid,
      issuer: this.config.AUTH_ISSUER,
      audience: this.config.AUTH_AUDIENCE,
      subject: options.subject,
      expiresIn: options.expiresInSeconds ?? 3600,
    });
  }
}

function loadOrCreateKey(file: string): StoredKey {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StoredKey;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const stored: StoredKey = { kid: randomUUID(), privateJwk: privateKey.export({ format: 'jwk' }) };
  mkdirSync(dirname(file), { recursive: true });
  // Written aside and linked into place: when two processes race, one key wins whole and both use it.
  const aside = `${file}.${process.pid}.${randomUUID()}`;
  writeFileSync(aside, JSON.stringify(stored), { mode: 0o600 });
  try {
    linkSync(aside, file);
    return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return JSON.parse(readFileSync(file, 'utf8')) as StoredKey;
  } finally {
    unlinkSync(aside);
  }
}

import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { createPublicKey, generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import { sign } from 'jsonwebtoken';

interface SigningKey {
  privateKey: KeyObject;
  algorithm: 'RS256' | 'ES256';
}

/**
 * An OpenID provider the test controls, on a port of the OS's choosing: a discovery document
 * (Keycloak-style issuer with a path), a JWKS whose keys the test adds and drops, and counters of
 * the fetches it served. Fetches can be held open to keep a refresh in flight, or failed.
 */
export class TestIdentityProvider {
  readonly issuer: string;
  readonly jwksUri: string;
  /** JWKS requests received, and the most that were open at once. */
  fetches = 0;
  maxConcurrentFetches = 0;
  /** JWKS requests currently held open by `holdFetches`. */
  held = 0;
  failing = false;
  private open = 0;
  private answerBeforeHold = 0;
  private gate?: { promise: Promise<void>; release: () => void };
  private readonly keys = new Map<string, SigningKey>();
  private readonly published = new Set<string>();

  private constructor(private readonly server: Server) {
    const { port } = server.address() as AddressInfo;
    this.issuer = `http://127.0.0.1:${port}/realms/bulkhead`;
    this.jwksUri = `${this.issuer}/protocol/openid-connect/certs`;
  }

  static async start(): Promise<TestIdentityProvider> {
    let provider: TestIdentityProvider | undefined;
    const server = createServer((request, response) => void provider?.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    provider = new TestIdentityProvider(server);
    return provider;
  }

  /** Generates and publishes a key; returns its kid. */
  addKey(algorithm: 'RS256' | 'ES256' = 'RS256'): string {
    const { privateKey } =
      algorithm === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = randomUUID();
    this.keys.set(kid, { privateKey, algorithm });
    this.published.add(kid);
    return kid;
  }

  /** Stops publishing the key; the provider (and the test) can still sign with it. */
  dropKey(kid: string): void {
    this.published.delete(kid);
  }

  sign(kid: string, claims: Record<string, unknown>): string {
    const key = this.keys.get(kid);
    if (!key) throw new Error(`no key ${kid}`);
    return sign(claims, key.privateKey, { algorithm: key.algorithm, keyid: kid });
  }

  /** Answers the next `answered` JWKS fetches, then holds every later one open until `release`. */
  holdFetches(answered = 0): void {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.gate = { promise, release };
    this.answerBeforeHold = answered;
  }

  release(): void {
    this.gate?.release();
    this.gate = undefined;
  }

  close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', this.issuer).pathname;
    if (path === new URL(`${this.issuer}/.well-known/openid-configuration`).pathname) {
      return json(response, 200, { issuer: this.issuer, jwks_uri: this.jwksUri, id_token_signing_alg_values_supported: ['RS256', 'ES256'] });
    }
    if (path !== new URL(this.jwksUri).pathname) return json(response, 404, { error: 'not_found' });
    this.fetches++;
    this.open++;
    this.maxConcurrentFetches = Math.max(this.maxConcurrentFetches, this.open);
    try {
      if (this.gate && this.answerBeforeHold-- <= 0) {
        this.held++;
        await this.gate.promise;
        this.held--;
      }
      if (this.failing) return json(response, 503, { error: 'unavailable' });
      json(response, 200, { keys: [...this.published].map((kid) => this.publicJwk(kid)) });
    } finally {
      this.open--;
    }
  }

  private publicJwk(kid: string): Record<string, unknown> {
    const key = this.keys.get(kid) as SigningKey;
    return { ...createPublicKey(key.privateKey).export({ format: 'jwk' }), kid, alg: key.algorithm, use: 'sig' };
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

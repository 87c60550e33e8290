import { createHash, generateKeyPairSync, KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { sign } from 'jsonwebtoken';

interface PendingCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
}

/**
 * An OpenID provider with an authorization endpoint and a token endpoint for the console's
 * login: authorization code with PKCE for a public client. The user is taken as signed in and
 * consenting, so /authorize redirects straight back with a code; /token redeems it only with the
 * verifier whose S256 challenge came with it, once, and answers an access token for
 * `subject` with `scope`, signed with a key its JWKS publishes.
 */
export class TestOidcProvider {
  readonly issuer: string;
  /** Codes redeemed, and token requests refused (wrong verifier, reused code, ...). */
  redeemed = 0;
  refused: string[] = [];
  private readonly codes = new Map<string, PendingCode>();
  private readonly kid = randomUUID();
  private readonly key: KeyObject = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

  private constructor(
    private readonly server: Server,
    private readonly token: { clientId: string; audience: string; subject: string; scope: string },
  ) {
    this.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/ops`;
  }

  static async start(token: { clientId: string; audience: string; subject: string; scope: string }): Promise<TestOidcProvider> {
    let provider: TestOidcProvider | undefined;
    const server = createServer((request, response) => void provider?.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    provider = new TestOidcProvider(server, token);
    return provider;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.issuer);
    const path = url.pathname.replace(new URL(this.issuer).pathname, '');
    if (path === '/.well-known/openid-configuration') {
      return json(response, 200, {
        issuer: this.issuer,
        authorization_endpoint: `${this.issuer}/authorize`,
        token_endpoint: `${this.issuer}/token`,
        jwks_uri: `${this.issuer}/certs`,
        code_challenge_methods_supported: ['S256'],
      });
    }
    if (path === '/certs') {
      const jwk = { ...this.key.export({ format: 'jwk' }), kid: this.kid, alg: 'RS256', use: 'sig' };
      delete (jwk as Record<string, unknown>).d;
      const { kty, n, e, kid, alg, use } = jwk as Record<string, unknown>;
      return json(response, 200, { keys: [{ kty, n, e, kid, alg, use }] });
    }
    if (path === '/authorize') return this.authorize(url, response);
    if (path === '/token' && request.method === 'POST') return this.redeem(new URLSearchParams(await bodyOf(request)), response);
    json(response, 404, { error: 'not_found' });
  }

  private authorize(url: URL, response: ServerResponse): void {
    const p = url.searchParams;
    const redirectUri = p.get('redirect_uri') ?? '';
    if (p.get('response_type') !== 'code' || p.get('client_id') !== this.token.clientId || p.get('code_challenge_method') !== 'S256' || !p.get('code_challenge') || !redirectUri) {
      return json(response, 400, { error: 'invalid_request' });
    }
    const code = randomBytes(16).toString('hex');
    this.codes.set(code, { clientId: this.token.clientId, redirectUri, challenge: p.get('code_challenge') as string });
    const back = new URL(redirectUri);
    back.search = new URLSearchParams({ code, state: p.get('state') ?? '' }).toString();
    response.writeHead(302, { location: back.toString() }).end();
  }

  private redeem(form: URLSearchParams, response: ServerResponse): void {
    const code = form.get('code') ?? '';
    const pending = this.codes.get(code);
    this.codes.delete(code);
    const verifier = form.get('code_verifier') ?? '';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const refusal = !pending
      ? 'unknown or reused code'
      : form.get('grant_type') !== 'authorization_code'
        ? 'grant_type'
        : form.get('client_id') !== pending.clientId
          ? 'client_id'
          : form.get('redirect_uri') !== pending.redirectUri
            ? 'redirect_uri'
            : challenge !== pending.challenge
              ? 'code_verifier does not match the challenge'
              : undefined;
    if (refusal) {
      this.refused.push(refusal);
      return json(response, 400, { error: 'invalid_grant', error_description: refusal });
    }
    this.redeemed++;
    const accessToken = sign({ scope: this.token.scope }, this.key, {
      algorithm: 'RS256',
      keyid: this.kid,
      issuer: this.issuer,
      audience: this.token.audience,
      subject: this.token.subject,
      expiresIn: 300,
    });
    json(response, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: 300 });
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  // A browser app on another origin reads discovery and redeems codes: CORS, as real providers allow it.
  response.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

function bodyOf(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => resolve(text));
    request.on('error', reject);
  });
}

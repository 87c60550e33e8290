import type { ConsoleSettings } from './settings.js';

/**
 * OpenID Connect authorization code flow with PKCE (RFC 7636, S256) for a public client: the
 * console has no secret. The verifier and state must survive the trip to the provider and back,
 * so they wait in sessionStorage (this tab only) and are deleted as the code is redeemed; the
 * tokens themselves are never stored anywhere but in memory.
 */
const PENDING_KEY = 'bulkhead-console-oidc-pending';

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
}

interface Pending {
  verifier: string;
  state: string;
  nonce: string;
  returnTo: string;
}

export function redirectUri(): string {
  return `${location.origin}/console`;
}

export async function startOidcLogin(settings: NonNullable<ConsoleSettings['oidc']>): Promise<void> {
  const discovery = await discover(settings.issuer);
  const pending: Pending = { verifier: randomToken(32), state: randomToken(16), nonce: randomToken(16), returnTo: location.hash || '#/tenants' };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = new URL(discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: settings.clientId,
    redirect_uri: redirectUri(),
    scope: settings.scope,
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await challengeOf(pending.verifier),
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

/**
 * On the way back: when the URL carries `code` and `state`, checks the state against the one
 * this tab sent, redeems the code with the verifier and answers the access token (and where to
 * go next); answers undefined when this is no return from the provider.
 */
export async function completeOidcLogin(settings: ConsoleSettings['oidc']): Promise<{ accessToken: string; returnTo: string } | undefined> {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return undefined;
  const pendingText = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  // The code leaves the address bar (and the history) whatever happens next.
  history.replaceState(null, '', '/console');
  if (params.has('error')) throw new Error(`The identity provider refused the login: ${params.get('error_description') ?? params.get('error')}`);
  if (!settings) throw new Error('This console has no OpenID Connect client configured.');
  const pending = pendingText ? (JSON.parse(pendingText) as Pending) : undefined;
  if (!pending || pending.state !== params.get('state')) throw new Error('The login answer does not match a login this tab started; sign in again.');
  const discovery = await discover(settings.issuer);
  const response = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code') ?? '',
      redirect_uri: redirectUri(),
      client_id: settings.clientId,
      code_verifier: pending.verifier,
    }).toString(),
    credentials: 'omit',
    cache: 'no-store',
  });
  if (!response.ok) throw new Error(`The identity provider refused the code (${response.status}).`);
  const tokens = (await response.json()) as { access_token?: unknown };
  if (typeof tokens.access_token !== 'string') throw new Error('The identity provider sent no access token.');
  return { accessToken: tokens.access_token, returnTo: pending.returnTo };
}

async function discover(issuer: string): Promise<Discovery> {
  const response = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { credentials: 'omit', cache: 'no-store' });
  if (!response.ok) throw new Error(`The identity provider's discovery document could not be read (${response.status}).`);
  const document = (await response.json()) as Discovery;
  // The same check the API makes: a document for another issuer is not this provider's.
  if (document.issuer !== issuer) throw new Error('The discovery document names another issuer.');
  return document;
}

function randomToken(bytes: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function challengeOf(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

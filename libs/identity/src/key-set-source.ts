import { BulkheadConfig, ConfigError } from '@bulkhead/config';
import { DevIssuer } from './dev-issuer';

/** Answers the provider's current JWKS document (parsed JSON), or throws. */
export type KeySetSource = (signal: AbortSignal) => Promise<unknown>;

const DISCOVERY_TIMEOUT_MS = 5000;

/**
 * Where the keys come from, decided once at start: AUTH_JWKS_URI if set; else the development
 * issuer if DEV_ISSUER is on; else the `jwks_uri` of AUTH_ISSUER's OpenID discovery document.
 * Without any of them the process does not start.
 */
export async function keySetSourceFor(config: BulkheadConfig, devIssuer: DevIssuer | null): Promise<{ fetch: KeySetSource; remote: boolean }> {
  if (config.AUTH_JWKS_URI) return { fetch: httpKeySetSource(config.AUTH_JWKS_URI), remote: true };
  if (config.DEV_ISSUER && devIssuer) return { fetch: async () => devIssuer.jwks(), remote: false };
  return { fetch: httpKeySetSource(await discoverJwksUri(config.AUTH_ISSUER)), remote: true };
}

export function httpKeySetSource(uri: string): KeySetSource {
  return async (signal) => {
    const response = await fetch(uri, { signal, headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`${uri} answered HTTP ${response.status}`);
    return response.json();
  };
}

/** OpenID Connect Discovery 1.0: the document's `issuer` must be AUTH_ISSUER exactly, as `iss` must. */
async function discoverJwksUri(issuer: string): Promise<string> {
  const refuse = (reason: string): never => {
    throw new ConfigError(
      `AUTH_JWKS_URI is not set and DEV_ISSUER is off, and the OpenID discovery document of AUTH_ISSUER ${reason}: set AUTH_JWKS_URI to your identity provider's JWKS URL, or DEV_ISSUER=true for the development issuer.`,
    );
  };
  if (!/^https?:\/\//.test(issuer)) refuse(`cannot be fetched (${issuer} is not an http(s) URL)`);
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS), headers: { accept: 'application/json' } });
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    return refuse(`at ${url} could not be fetched (${String(cause?.code ?? cause?.message ?? (error as Error).message)})`);
  }
  if (!response.ok) return refuse(`at ${url} answered HTTP ${response.status}`);
  const document = (await response.json().catch(() => undefined)) as { issuer?: unknown; jwks_uri?: unknown } | undefined;
  if (typeof document !== 'object' || document === null) return refuse(`at ${url} is not JSON`);
  if (document.issuer !== issuer) return refuse(`at ${url} names the issuer ${JSON.stringify(document.issuer)}, not ${issuer}`);
  if (typeof document.jwks_uri !== 'string' || !/^https?:\/\/\S+$/.test(document.jwks_uri)) {
    return refuse(`at ${url} has no http(s) jwks_uri`);
  }
  return document.jwks_uri;
}

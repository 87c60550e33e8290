import { createPublicKey, JsonWebKey, KeyObject } from 'node:crypto';

export type SigningAlgorithm = 'RS256' | 'ES256';

/** A provider's public key, parsed once and kept as long as the provider publishes it unchanged. */
export interface VerificationKey {
  readonly key: KeyObject;
  readonly algorithm: SigningAlgorithm;
  /** The key material as published; a key republished under the same kid with other material is parsed again. */
  readonly fingerprint: string;
}

/**
 * Turns a JWKS response into the keys we can verify with: signing keys of an allowed algorithm
 * (RSA for RS256, EC P-256 for ES256) that carry a `kid`. Anything else in the set (encryption
 * keys, other curves, RS512 keys...) is left out rather than failing the whole set. A body that is
 * not a key set at all throws, so a broken response never replaces a good set.
 */
export function parseKeySet(
  body: unknown,
  algorithms: readonly SigningAlgorithm[],
  previous: ReadonlyMap<string, VerificationKey>,
): Map<string, VerificationKey> {
  const published = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(published)) throw new Error('the response is not a JSON Web Key Set');
  const keys = new Map<string, VerificationKey>();
  for (const jwk of published as Array<JsonWebKey & { kid?: unknown; use?: unknown; alg?: unknown }>) {
    if (typeof jwk !== 'object' || jwk === null || typeof jwk.kid !== 'string' || jwk.kid.length === 0) continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    const algorithm = algorithmOf(jwk);
    if (!algorithm || !algorithms.includes(algorithm) || keys.has(jwk.kid)) continue;
    const fingerprint = JSON.stringify([jwk.kty, jwk.n, jwk.e, jwk.crv, jwk.x, jwk.y]);
    const kept = previous.get(jwk.kid);
    if (kept && kept.fingerprint === fingerprint && kept.algorithm === algorithm) {
      keys.set(jwk.kid, kept);
      continue;
    }
    try {
      keys.set(jwk.kid, { key: createPublicKey({ key: jwk, format: 'jwk' }), algorithm, fingerprint });
    } catch {
      // A malformed key is unusable, not a reason to distrust the rest of the set.
    }
  }
  return keys;
}

function algorithmOf(jwk: JsonWebKey & { alg?: unknown }): SigningAlgorithm | undefined {
  const implied = jwk.kty === 'RSA' ? 'RS256' : jwk.kty === 'EC' && jwk.crv === 'P-256' ? 'ES256' : undefined;
  if (!implied || (jwk.alg !== undefined && jwk.alg !== implied)) return undefined;
  return implied;
}

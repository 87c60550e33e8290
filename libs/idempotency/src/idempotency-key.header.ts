import { IdempotencyKeyInvalidProblem } from './idempotency.errors';

/** An sf-string (RFC 8941 §3.3.3) of 1 to 255 characters: printable ASCII, `"` and `\` escaped. */
export const IDEMPOTENCY_KEY_PATTERN = '^"(?:[ !#-\\[\\]-~]|\\\\[\\\\"]){1,255}"$';
const PATTERN = new RegExp(IDEMPOTENCY_KEY_PATTERN);

/**
 * The key of an `Idempotency-Key` header, which the draft (draft-ietf-httpapi-idempotency-key-header)
 * defines as an Item Structured Header whose value is a String: quoted. An unquoted token, an
 * empty or overlong key, parameters, a list or a repeated header (joined with commas) are refused.
 */
export function parseIdempotencyKey(raw: string | string[]): string {
  if (Array.isArray(raw) || !PATTERN.test(raw)) throw new IdempotencyKeyInvalidProblem();
  return raw.slice(1, -1).replace(/\\(["\\])/g, '$1');
}

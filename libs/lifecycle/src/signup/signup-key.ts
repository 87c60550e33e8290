import { IdempotencyKeyInvalidProblem } from '@bulkhead/idempotency';
import { SignupKeyRequiredProblem } from '../lifecycle.errors';

/** The same rule as tenant POSTs (draft-ietf-httpapi-idempotency-key-header): a quoted sf-string of 1-255 printable ASCII characters. */
const KEY = /^"(?:[ !#-[\]-~]|\\[\\"]){1,255}"$/;

export function parseSignupKey(raw: string | string[] | undefined): string {
  if (raw === undefined) throw new SignupKeyRequiredProblem();
  if (Array.isArray(raw) || !KEY.test(raw)) throw new IdempotencyKeyInvalidProblem();
  return raw.slice(1, -1).replace(/\\(["\\])/g, '$1');
}

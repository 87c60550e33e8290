import { setUnitOfWorkValue, unitOfWorkValue } from '@bulkhead/tenancy';

const CALLER_AUTHORIZATION = Symbol('caller-authorization');
const CALLER_GRANT = Symbol('caller-impersonation-grant');

/**
 * Keeps the request's `Authorization` header in its unit of work, for calls made on the caller's
 * own token, and its impersonation grant beside it: an operator's token means nothing inside a
 * tenant without the grant, so the two travel together.
 */
export function rememberCallerCredentials(authorization: string | undefined, grant: string | string[] | undefined): void {
  if (authorization !== undefined) setUnitOfWorkValue(CALLER_AUTHORIZATION, authorization);
  if (typeof grant === 'string') setUnitOfWorkValue(CALLER_GRANT, grant);
}

export function callerAuthorization(): string | undefined {
  return unitOfWorkValue<string>(CALLER_AUTHORIZATION);
}

export function callerImpersonationGrant(): string | undefined {
  return unitOfWorkValue<string>(CALLER_GRANT);
}

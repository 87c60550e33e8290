import { setUnitOfWorkValue, unitOfWorkValue } from '@bulkhead/tenancy';

const CALLER_AUTHORIZATION = Symbol('caller-authorization');

/** Keeps the request's `Authorization` header in its unit of work, for calls made on the caller's own token. */
export function rememberCallerAuthorization(header: string | undefined): void {
  if (header !== undefined) setUnitOfWorkValue(CALLER_AUTHORIZATION, header);
}

export function callerAuthorization(): string | undefined {
  return unitOfWorkValue<string>(CALLER_AUTHORIZATION);
}

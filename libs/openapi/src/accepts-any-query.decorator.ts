import { SetMetadata } from '@nestjs/common';

export const ANY_QUERY = 'bulkhead:any-query';

/**
 * A route outside the API whose callers add query strings of their own: a monitor's cache-buster
 * on a health probe, a key-set fetch, the console's OpenID Connect redirect, and /metrics, which
 * must answer a stranger exactly as a path that does not exist. Every other route refuses a query
 * parameter it does not declare (tenancy's `UndeclaredQueryGuard`); a public API route such as
 * signup is no exception.
 */
export const AcceptsAnyQuery = (): ClassDecorator & MethodDecorator => SetMetadata(ANY_QUERY, true);

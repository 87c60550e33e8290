import type { SchemaObject } from '@nestjs/swagger';
import { ProblemScope } from './api-problem.decorator';

export const API_RESPONSE_HEADERS = 'bulkhead:api-response-headers';

export interface ResponseHeader {
  name: string;
  description: string;
  schema: SchemaObject;
  /** The statuses that carry it: `2xx` for every success, or single codes such as `429`. */
  statuses: ReadonlyArray<'2xx' | number>;
}

export interface DeclaredResponseHeader {
  header: ResponseHeader;
  scope: ProblemScope;
}

/**
 * Declares a response header that a global guard or interceptor (its class) sets, documented on
 * the listed responses of every secured operation in `scope`, the way `@ApiProblem` scopes its problems.
 */
export function ApiResponseHeader(header: ResponseHeader, scope: ProblemScope = {}): ClassDecorator {
  return (target: object): void => {
    const declared: DeclaredResponseHeader[] = Reflect.getOwnMetadata(API_RESPONSE_HEADERS, target) ?? [];
    Reflect.defineMetadata(API_RESPONSE_HEADERS, [{ header, scope }, ...declared], target);
  };
}

export function declaredResponseHeaders(holder: object | undefined): DeclaredResponseHeader[] {
  return holder ? ((Reflect.getOwnMetadata(API_RESPONSE_HEADERS, holder) as DeclaredResponseHeader[] | undefined) ?? []) : [];
}

import type { SchemaObject } from '@nestjs/swagger';
import { ProblemScope } from './api-problem.decorator';

export const API_REQUEST_HEADERS = 'bulkhead:api-request-headers';

export interface RequestHeader {
  name: string;
  description: string;
  required?: boolean;
  schema: SchemaObject;
  example?: unknown;
}

export interface DeclaredHeader {
  header: RequestHeader;
  scope: ProblemScope;
}

/**
 * Declares a request header that a global guard or interceptor (its class) reads, documented as a
 * header parameter of every operation in `scope`, the way `@ApiProblem` scopes its problems.
 */
export function ApiRequestHeader(header: RequestHeader, scope: ProblemScope = {}): ClassDecorator {
  return (target: object): void => {
    const declared: DeclaredHeader[] = Reflect.getOwnMetadata(API_REQUEST_HEADERS, target) ?? [];
    Reflect.defineMetadata(API_REQUEST_HEADERS, [{ header, scope }, ...declared], target);
  };
}

export function declaredHeaders(holder: object | undefined): DeclaredHeader[] {
  return holder ? ((Reflect.getOwnMetadata(API_REQUEST_HEADERS, holder) as DeclaredHeader[] | undefined) ?? []) : [];
}

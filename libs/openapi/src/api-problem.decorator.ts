import { ProblemBody, ProblemError, toProblem } from '@bulkhead/problem';
import { HttpException } from '@nestjs/common';

export const API_PROBLEMS = 'bulkhead:api-problems';

type ProblemSource = ProblemError | HttpException | (new () => ProblemError);

/**
 * Narrows a declaration on a global guard to the routes it really answers for, by the same route
 * metadata the guard reads (e.g. only on operator routes, or never on them).
 */
export interface ProblemScope {
  /** Only routes whose handler or controller carries this metadata key. */
  when?: string;
  /** Only routes that do not carry it. */
  unless?: string;
  /** Only operations of these HTTP methods (lower case), e.g. what an interceptor does on POST. */
  methods?: readonly string[];
}

export interface DeclaredProblem {
  body: ProblemBody;
  scope: ProblemScope;
}

/**
 * Declares a problem an operation (method), every operation of a controller (class), or every
 * operation a global guard or interceptor covers (its class) can answer. The documented example is the body
 * the platform really sends for it (`toProblem`), so title and detail are never written twice.
 *
 *   @ApiProblem(EmailTakenProblem)                          a ProblemError class with no arguments
 *   @ApiProblem(new TenantStateProblem('...'))              an instance, when it needs arguments
 *   @ApiProblem(409, 'customer_email_taken', 'Email taken') when no error class exists
 */
export function ApiProblem(source: ProblemSource, scope?: ProblemScope): ClassDecorator & MethodDecorator;
export function ApiProblem(status: number, code: string, title?: string, detail?: string): ClassDecorator & MethodDecorator;
export function ApiProblem(source: ProblemSource | number, codeOrScope?: string | ProblemScope, title?: string, detail?: string): ClassDecorator & MethodDecorator {
  const body =
    typeof source === 'number'
      ? toProblem(new ProblemError(source, codeOrScope as string, title ?? (codeOrScope as string).replace(/_/g, ' '), detail))
      : toProblem(typeof source === 'function' ? new source() : source);
  const scope = typeof codeOrScope === 'object' ? codeOrScope : {};
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor): void => {
    const holder = descriptor ? (descriptor.value as object) : target;
    const declared: DeclaredProblem[] = Reflect.getOwnMetadata(API_PROBLEMS, holder) ?? [];
    if (!declared.some((existing) => existing.body.code === body.code && existing.body.status === body.status)) {
      // Decorators apply bottom-up: prepend, so the document lists them in source order.
      Reflect.defineMetadata(API_PROBLEMS, [{ body, scope }, ...declared], holder);
    }
  };
}

export function declaredProblems(holder: object | undefined): DeclaredProblem[] {
  return holder ? ((Reflect.getOwnMetadata(API_PROBLEMS, holder) as DeclaredProblem[] | undefined) ?? []) : [];
}

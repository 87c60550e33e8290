import { PROBLEM_CONTENT_TYPE, ProblemBody, ProblemError, toProblem, ValidationProblem } from '@bulkhead/problem';
import { BadRequestException, NotFoundException, UnauthorizedException } from '@nestjs/common';
import type { OperationObject, ParameterObject, ResponseObject, SchemaObject } from '@nestjs/swagger';

export const PROBLEM_SCHEMA = 'Problem';
export const FIELD_PROBLEM_SCHEMA = 'FieldProblem';

const BODY_METHODS = new Set(['post', 'put', 'patch']);

/** The body of every error response (RFC 9457), as `toProblem` writes it. */
export function problemSchemas(): Record<string, SchemaObject> {
  return {
    [PROBLEM_SCHEMA]: {
      type: 'object',
      description: 'RFC 9457 problem details. Branch on `code`: it is stable once shipped; `title` and `detail` are for people.',
      required: ['type', 'title', 'status', 'code'],
      properties: {
        type: { type: 'string', format: 'uri', description: 'https://bulkhead.dev/problems/<code>' },
        title: { type: 'string' },
        status: { type: 'integer', minimum: 400, maximum: 599 },
        code: { type: 'string', pattern: '^[a-z][a-z0-9_]*$' },
        detail: { type: 'string' },
        errors: { type: 'array', description: 'Which fields were refused and why (400 validation_failed, 422).', items: { $ref: `#/components/schemas/${FIELD_PROBLEM_SCHEMA}` } },
        retryAfterSeconds: { type: 'integer', minimum: 0, description: 'Also sent as the Retry-After header.' },
      },
      additionalProperties: true,
    },
    [FIELD_PROBLEM_SCHEMA]: {
      type: 'object',
      required: ['field', 'messages'],
      properties: { field: { type: 'string', description: 'Dotted path of the refused property.' }, messages: { type: 'array', items: { type: 'string' } } },
      additionalProperties: false,
    },
  };
}

export interface OperationShape {
  method: string;
  operation: OperationObject;
  secured: boolean;
  /** A property of its body or query, to name in the validation example. */
  inputName?: string;
}

/**
 * The problems the platform itself can answer for an operation, whatever its handler does: what
 * the JSON middleware, the ValidationPipe and the parameter pipes send. Bodies come from the same
 * mapping (`toProblem`) that writes the real responses.
 */
export function platformProblems({ method, operation, secured, inputName }: OperationShape): ProblemBody[] {
  const parameters = (operation.parameters ?? []) as ParameterObject[];
  const takesBody = BODY_METHODS.has(method);
  const pathParameters = parameters.filter((parameter) => parameter.in === 'path');
  const problems: ProblemBody[] = [];
  // The ValidationPipe checks DTOs only: bodies and query objects, not single path parameters.
  if (operation.requestBody || parameters.some((parameter) => parameter.in === 'query')) {
    const field = inputName ?? 'value';
    problems.push(toProblem(new ValidationProblem([{ field, messages: [`property ${field} is invalid`] }])));
  }
  if (pathParameters.some((parameter) => (parameter.schema as SchemaObject | undefined)?.format === 'uuid')) {
    problems.push(toProblem(new BadRequestException('Validation failed (uuid is expected)')));
  }
  if (takesBody) {
    problems.push(toProblem(new ProblemError(400, 'bad_request', 'Bad request', 'The request body is not valid JSON.')));
    // What Fastify raises for a body over BODY_LIMIT, before any route runs.
    problems.push(toProblem(Object.assign(new Error('Request body is too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 })));
    problems.push(toProblem(new ProblemError(415, 'unsupported_media_type', 'Unsupported media type', 'Send the request body as application/json.')));
  }
  if (secured) problems.push(toProblem(new UnauthorizedException('The bearer token is missing or invalid.')));
  if (pathParameters.length) problems.push(toProblem(new NotFoundException()));
  return problems;
}

/**
 * Replaces the operation's 4xx/5xx responses by problem+json ones, one per status, with one
 * example per code. A status declared next to the route wins over the platform's generic one
 * (a route's `customer_not_found` replaces the generic `not_found`).
 */
export function documentProblems(operation: OperationObject, generic: ProblemBody[], declared: ProblemBody[]): void {
  const byStatus = new Map<number, ProblemBody[]>();
  const declaredStatuses = new Set(declared.map((problem) => problem.status));
  const add = (problem: ProblemBody) => {
    const list = byStatus.get(problem.status) ?? [];
    if (!list.some((known) => known.code === problem.code)) byStatus.set(problem.status, [...list, problem]);
  };
  for (const problem of declared) add(problem);
  for (const problem of generic) {
    if (problem.status === 404 && declaredStatuses.has(404)) continue;
    add(problem);
  }
  const responses = operation.responses as Record<string, ResponseObject>;
  for (const [status, problems] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = problemResponse(status, problems);
  }
}

function problemResponse(status: number, problems: ProblemBody[]): ResponseObject {
  const headers: ResponseObject['headers'] = {};
  if (problems.some((problem) => typeof problem.retryAfterSeconds === 'number')) {
    headers['Retry-After'] = { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } };
  }
  if (status === 401) headers['WWW-Authenticate'] = { description: 'Bearer error="invalid_token"', schema: { type: 'string' } };
  return {
    description: problems.map((problem) => `\`${problem.code}\`: ${problem.title}`).join('; '),
    ...(Object.keys(headers).length ? { headers } : {}),
    content: {
      [PROBLEM_CONTENT_TYPE]: {
        schema: { $ref: `#/components/schemas/${PROBLEM_SCHEMA}` },
        examples: Object.fromEntries(problems.map((problem) => [problem.code, { summary: problem.title, value: problem }])),
      },
    },
  };
}


import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { isInfrastructureFailure } from './infrastructure-failure';
import { ProblemError, ServiceUnavailableProblem } from './problem.error';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'https://bulkhead.dev/problems/';

/** Stable codes for errors raised by the framework itself rather than by our own code. */
const HTTP_CODES: Record<number, [code: string, title: string]> = {
  400: ['bad_request', 'Bad request'],
  401: ['unauthenticated', 'Authentication required'],
  403: ['forbidden', 'Forbidden'],
  404: ['not_found', 'Not found'],
  405: ['method_not_allowed', 'Method not allowed'],
  406: ['not_acceptable', 'Not acceptable'],
  408: ['request_timeout', 'Request timeout'],
  409: ['conflict', 'Conflict'],
  413: ['payload_too_large', 'Payload too large'],
  415: ['unsupported_media_type', 'Unsupported media type'],
  422: ['unprocessable', 'Unprocessable request'],
  429: ['rate_limited', 'Too many requests'],
  431: ['headers_too_large', 'Request header fields too large'],
  503: ['unavailable', 'Service unavailable'],
};

export const NUL_IN_JSON = 'nul_character_in_json';
export const LONE_SURROGATE_IN_JSON = 'lone_surrogate_in_json';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A JSON.parse reviver for request bodies that refuses, at the edge, text no layer behind it can
 * hold: U+0000 (PostgreSQL text cannot store it) and an unpaired UTF-16 surrogate (`"\ud800"`
 * is valid JSON but not Unicode text: validators that encode it throw, and UTF-8 cannot carry it).
 * Keys are checked too.
 */
export function refuseUnstorableText(key: string, value: unknown): unknown {
  for (const text of typeof value === 'string' ? [key, value] : [key]) {
    if (text.includes('\u0000')) throw new SyntaxError(NUL_IN_JSON);
    if (LONE_SURROGATE.test(text)) throw new SyntaxError(LONE_SURROGATE_IN_JSON);
  }
  return value;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  [extension: string]: unknown;
}

/** Turns any error into an RFC 9457 body; unknown errors become an opaque 500. */
export function toProblem(error: unknown): ProblemBody {
  if (error instanceof ProblemError) {
    return {
      type: PROBLEM_TYPE_BASE + error.code,
      title: error.title,
      status: error.status,
      code: error.code,
      ...(error.detail ? { detail: error.detail } : {}),
      ...error.extensions,
    };
  }
  // PostgreSQL or Redis restarting or down: never a 500, whichever layer the failure surfaced in.
  if (isInfrastructureFailure(error)) return toProblem(new ServiceUnavailableProblem());
  if (isDataException(error)) {
    // Input that passed validation but that the database still refused as a value (out of range,
    // check constraint): the caller's fault, reported without echoing the database's message.
    return {
      type: PROBLEM_TYPE_BASE + 'invalid_value',
      title: 'Invalid value',
      status: 400,
      code: 'invalid_value',
      detail: 'A value in the request is out of range or not allowed.',
    };
  }
  const status = httpStatusOf(error);
  if (status !== undefined && status < 500) {
    const [code, title] = HTTP_CODES[status] ?? ['client_error', 'Client error'];
    return { type: PROBLEM_TYPE_BASE + code, title, status, code, detail: clientDetail(error, status) };
  }
  if (status === 503) {
    const [code, title] = HTTP_CODES[503];
    return { type: PROBLEM_TYPE_BASE + code, title, status, code };
  }
  return {
    type: PROBLEM_TYPE_BASE + 'internal_error',
    title: 'Internal server error',
    status: 500,
    code: 'internal_error',
  };
}

/** SQLSTATE class 22 (data exception) and 23514 (check violation), from pg through TypeORM or directly. */
function isDataException(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const driver = (error as { driverError?: { code?: unknown } }).driverError;
  const code = driver?.code ?? (error as { code?: unknown }).code;
  return typeof code === 'string' && /^(22[0-9A-Z]{3}|23514)$/.test(code) && 'severity' in (driver ?? error);
}

function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof HttpException) return error.getStatus();
  // body-parser and other express middleware report client errors as `status`/`statusCode` with `expose`.
  if (typeof error === 'object' && error !== null && (error as { expose?: unknown }).expose === true) {
    const status = (error as { status?: unknown; statusCode?: unknown }).status ?? (error as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) return status;
  }
  return undefined;
}

function clientDetail(error: unknown, status: number): string {
  const type = (error as { type?: unknown }).type;
  if (type === 'entity.parse.failed') {
    const message = (error as Error).message;
    if (message === NUL_IN_JSON) return 'Strings in the request body may not contain the NUL character.';
    if (message === LONE_SURROGATE_IN_JSON) return 'Strings in the request body may not contain an unpaired UTF-16 surrogate.';
    return 'The request body is not valid JSON.';
  }
  if (type === 'entity.too.large') return 'The request body exceeds the size limit.';
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return 'The request body encoding is not supported.';
  if (status === 404) return 'The requested resource does not exist.';
  if (error instanceof HttpException) {
    const response = error.getResponse();
    if (typeof response === 'string') return response;
    const message = (response as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return HTTP_CODES[status]?.[1] ?? 'The request could not be processed.';
}

export function sendProblem(response: Response, problem: ProblemBody): void {
  if (response.headersSent) return;
  if (problem.status === 401) response.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
  if (typeof problem.retryAfterSeconds === 'number') response.setHeader('Retry-After', String(problem.retryAfterSeconds));
  response.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
}

/**
 * Told of every problem answered, after the answer is sent (the audit trail records refusals this
 * way). It must not throw and must not make the answer wait: queue, do not write.
 */
export interface ProblemObserver {
  observeProblem(problem: ProblemBody, request: { method: string; url?: string; id?: unknown; user?: unknown }): void;
}

/** The injection token under which an app may provide its `ProblemObserver`. */
export const PROBLEM_OBSERVER = Symbol.for('bulkhead.problem-observer');

/** The one place errors become HTTP responses. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  constructor(private readonly observer?: ProblemObserver) {}

  catch(error: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error;
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const problem = toProblem(error);
    // A typed problem is an outcome the code chose (a shed read, say) and the access line records
    // it: logging each one would cost most exactly when the process is shedding load. An outage
    // is worth a warning; anything unexpected is an error.
    if (problem.status === 500) {
      this.logger.error({ err: error, method: request.method, path: request.path }, 'request failed');
    } else if (problem.status >= 500 && !(error instanceof ProblemError)) {
      this.logger.warn({ err: error, method: request.method, path: request.path }, 'request failed: a backing service is unavailable');
    }
    sendProblem(response, problem);
    try {
      this.observer?.observeProblem(problem, request);
    } catch (observerError) {
      this.logger.error({ err: observerError }, 'problem observer failed');
    }
  }
}

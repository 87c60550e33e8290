import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isInfrastructureFailure, isSchemaBehindCode } from './infrastructure-failure';
import { PlacementOutdatedProblem, ProblemError, ServiceUnavailableProblem } from './problem.error';

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
  if (isSchemaBehindCode(error)) return toProblem(new PlacementOutdatedProblem());
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
  // Fastify reports what it refuses before a route runs (body too large, a media type no parser
  // takes, a bad Content-Length) as errors with an `FST_` code and a 4xx `statusCode`.
  if (fastifyCodeOf(error) !== undefined) {
    const status = (error as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) return status;
  }
  return undefined;
}

function fastifyCodeOf(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('FST_') ? code : undefined;
}

const FASTIFY_DETAILS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body exceeds the size limit.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Send the request body as application/json.',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The Content-Length does not match the request body.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The request body is empty.',
  FST_ERR_BAD_URL: 'The request path is not valid percent-encoding.',
};

function clientDetail(error: unknown, status: number): string {
  const fastifyDetail = FASTIFY_DETAILS[fastifyCodeOf(error) ?? ''];
  if (fastifyDetail) return fastifyDetail;
  if (status === 404) return 'The requested resource does not exist.';
  if (error instanceof HttpException) {
    const response = error.getResponse();
    if (typeof response === 'string') return response;
    const message = (response as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return HTTP_CODES[status]?.[1] ?? 'The request could not be processed.';
}

export function sendProblem(reply: FastifyReply, problem: ProblemBody): void {
  if (reply.sent) return;
  if (problem.status === 401) reply.header('www-authenticate', 'Bearer error="invalid_token"');
  if (typeof problem.retryAfterSeconds === 'number') reply.header('retry-after', String(problem.retryAfterSeconds));
  reply.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
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
    const request = http.getRequest<FastifyRequest>();
    const response = http.getResponse<FastifyReply>();
    const problem = toProblem(error);
    // A typed problem is an outcome the code chose (a shed read, say) and the access line records
    // it: logging each one would cost most exactly when the process is shedding load. An outage
    // is worth a warning; anything unexpected is an error.
    if (problem.code === 'placement_outdated') {
      this.logger.error({ err: error, method: request.method, path: request.routeOptions?.url ?? request.url }, 'a tenant placement is behind the code: run `npm run bulkhead -- migrate`');
    } else if (problem.status === 500) {
      this.logger.error({ err: error, method: request.method, path: request.routeOptions?.url ?? request.url }, 'request failed');
    } else if (problem.status >= 500 && !(error instanceof ProblemError)) {
      this.logger.warn({ err: error, method: request.method, path: request.routeOptions?.url ?? request.url }, 'request failed: a backing service is unavailable');
    }
    sendProblem(response, problem);
    try {
      this.observer?.observeProblem(problem, request);
    } catch (observerError) {
      this.logger.error({ err: observerError }, 'problem observer failed');
    }
  }
}

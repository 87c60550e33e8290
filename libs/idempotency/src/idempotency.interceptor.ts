import { OPERATOR_ROUTE, PUBLIC_ROUTE } from '@bulkhead/identity';
import { ApiProblem, ApiRequestHeader } from '@bulkhead/openapi';
import { TenantData } from '@bulkhead/tenancy';
import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { defer, from, lastValueFrom, Observable } from 'rxjs';
import { IDEMPOTENCY_KEY_PATTERN, parseIdempotencyKey } from './idempotency-key.header';
import { IdempotencyStore, KeyedRequest, StoredResponse } from './idempotency-store';
import { requestFingerprint } from './request-fingerprint';
import {
  IDEMPOTENCY_HEADER,
  IdempotencyKeyInProgressProblem,
  IdempotencyKeyInvalidProblem,
  IdempotencyKeyReusedProblem,
  IdempotencyKeyUnsupportedProblem,
} from './idempotency.errors';

/** Sent on a replayed response, so a client (and its logs) can tell a replay from a first run. */
export const REPLAYED_HEADER = 'Idempotency-Replayed';
/** The response headers worth replaying; the rest (dates, request ids, lengths) belong to each answer. */
const STORED_HEADERS = ['location', 'content-location', 'content-type'];

const TENANT_POSTS = { unless: OPERATOR_ROUTE, methods: ['post'] } as const;

/**
 * `Idempotency-Key` on tenant POSTs. With a key, the handler runs inside one transaction scope
 * that first claims the key and at the end stores the response, so the request's writes and its
 * stored response commit together (and a failed or crashed request leaves no key behind). A
 * retry with the same key and the same request gets the stored response; with another request
 * 422; while the first is still running 409. Without the header nothing changes.
 */
@Injectable()
@ApiRequestHeader(
  {
    name: IDEMPOTENCY_HEADER,
    description:
      'Makes this POST safe to retry: a Structured Field String (quoted), 1-255 printable ASCII characters, unique per request (a UUID). ' +
      'The same key with the same request (method, path, body) within 24 h replays the first response (with `Idempotency-Replayed: true`); ' +
      'with a different request it is 422 `idempotency_key_reused`; while the first is still running 409 `idempotency_key_in_progress`. ' +
      'A key is stored only with a successful response; after an error the request may be retried with the same key.',
    schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN, maxLength: 512 },
    example: '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
  },
  TENANT_POSTS,
)
@ApiProblem(IdempotencyKeyInvalidProblem, TENANT_POSTS)
@ApiProblem(IdempotencyKeyReusedProblem, TENANT_POSTS)
@ApiProblem(IdempotencyKeyInProgressProblem, TENANT_POSTS)
@ApiProblem(IdempotencyKeyUnsupportedProblem, { when: OPERATOR_ROUTE, methods: ['post'] })
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly data: TenantData,
    private readonly store: IdempotencyStore,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const raw = request.headers[IDEMPOTENCY_HEADER.toLowerCase()];
    // Other methods are idempotent by definition here (PUT, PATCH setting fields, DELETE).
    if (request.method !== 'POST' || raw === undefined) return next.handle();
    return defer(() => {
      const targets = [context.getHandler(), context.getClass()];
      if (this.reflector.getAllAndOverride<boolean>(OPERATOR_ROUTE, targets) || this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) {
        throw new IdempotencyKeyUnsupportedProblem();
      }
      const keyed: KeyedRequest = {
        key: parseIdempotencyKey(raw),
        method: request.method,
        path: request.originalUrl,
        fingerprint: requestFingerprint(request.method, request.originalUrl, request.body),
      };
      return from(this.run(keyed, http.getResponse<FastifyReply>(), next));
    });
  }

  private async run(keyed: KeyedRequest, response: FastifyReply, next: CallHandler): Promise<unknown> {
    const outcome = await this.data.transactionScope(async (tx) => {
      const stored = await this.store.claim(tx, keyed);
      if (stored) return { replayed: true as const, stored };
      const value = await lastValueFrom(next.handle(), { defaultValue: undefined });
      const fresh: StoredResponse = {
        status: response.statusCode,
        headers: pickHeaders(response),
        // What the client receives is this JSON text: a replay parses it back, and serialising the
        // parsed value again gives the same bytes (keys in the same order, dates as strings).
        body: value === undefined ? null : JSON.stringify(value),
      };
      await this.store.save(tx, keyed, fresh);
      return { replayed: false as const, value };
    });
    if (!outcome.replayed) return outcome.value;
    response.status(outcome.stored.status);
    for (const [name, value] of Object.entries(outcome.stored.headers)) response.header(name, value);
    response.header(REPLAYED_HEADER, 'true');
    return outcome.stored.body === null ? undefined : (JSON.parse(outcome.stored.body) as unknown);
  }
}

function pickHeaders(response: FastifyReply): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    const value = response.getHeader(name);
    if (value !== undefined) headers[name] = String(value);
  }
  return headers;
}

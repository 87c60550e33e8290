import { installFastAsyncResourceBind } from '@bulkhead/async-context';
import { BulkheadConfig } from '@bulkhead/config';
import { headerCount } from '@bulkhead/identity';
import { HttpMetrics, registerHttpMetrics } from '@bulkhead/metrics';
import { registerUsageHook, UsageRecorder } from '@bulkhead/noisy-neighbours';
import { rememberCallerCredentials } from '@bulkhead/service-client';
import { AppLogger, registerAccessLog, REQUEST_ID_HEADER, requestIdFor } from '@bulkhead/observability';
import { buildOpenApiDocument } from '@bulkhead/openapi';
import { answerClientError, answerConnect, answerUnmetExpectation, PROBLEM_OBSERVER, ProblemError, ProblemFilter, ProblemObserver, problemValidationPipe, sendProblem, toProblem } from '@bulkhead/problem';
import { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { TestingModule } from '@nestjs/testing';
import { SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { currentTenant, IMPERSONATION_HEADER, peekTenantId, runUnitOfWork, UnitOfWork } from '@bulkhead/tenancy';
import { setSpanTenantSource, tenantAttributes, traceRequests } from '@bulkhead/tracing';
import { registerJsonBodyParser } from './json-body.parser';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const JSON_CONTENT_TYPE = /^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/;
/** How long a stopping API lets requests in flight finish before it cuts their connections. */
const SHUTDOWN_GRACE_MS = 5000;
const NOT_JSON = new ProblemError(415, 'unsupported_media_type', 'Unsupported media type', 'Send the request body as application/json.');
const ENCODED = new ProblemError(415, 'unsupported_media_type', 'Unsupported media type', 'Send the request body without a Content-Encoding (uncompressed).');
const NO_HOST = new ProblemError(400, 'bad_request', 'Bad request', 'An HTTP/1.1 request must carry a Host header.');
const TWO_HOSTS = new ProblemError(400, 'bad_request', 'Bad request', 'The request names more than one Host.');

/**
 * The HTTP adapter: Fastify, for its per-request cost (a Nest route on it costs a fraction of the
 * same route on express). Request ids come from here, so the access log, the tenant context and
 * the `X-Request-Id` answer all carry the same one; requests Node's parser refuses are answered
 * as problem+json rather than Fastify's own JSON.
 */
function createHttpAdapter(config: BulkheadConfig): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    genReqId: requestIdFor,
    requestIdHeader: false,
    // express matched `/v1/orders/` to `/v1/orders`; clients written against it keep working.
    routerOptions: { ignoreTrailingSlash: true },
    clientErrorHandler: answerClientError,
    // Node answers an HTTP/1.1 request without Host itself, 400 with an empty body; the onRequest
    // hook below answers it as problem+json instead.
    http: { requireHostHeader: false },
    // A path that is not valid percent-encoding is refused by the router, before Nest sees it.
    frameworkErrors: (error: Error, _request: FastifyRequest, reply: FastifyReply) => sendProblem(reply, toProblem(error)),
    logger: false,
  });
}

/**
 * The API's HTTP application from a root module (or a compiled testing module), configured and
 * initialised: `main.ts`, the tests and the benchmarks all build it here, so they all exercise
 * the same stack. It is ready to answer through `getHttpServer()`; `listen` is the caller's.
 */
export async function createHttpApp(
  root: Type<unknown> | TestingModule,
  config: BulkheadConfig,
  options: { docs?: boolean; abortOnError?: boolean } = {},
): Promise<NestFastifyApplication> {
  // Nest's interceptors and Fastify's body parser bind every request through it (see the function).
  installFastAsyncResourceBind();
  const adapter = createHttpAdapter(config);
  // bodyParser off: Nest would otherwise register its own JSON parser over ours at init.
  const settings = { logger: false as const, bodyParser: false, abortOnError: options.abortOnError ?? true };
  const app = isTestingModule(root)
    ? root.createNestApplication<NestFastifyApplication>(adapter, settings)
    : await NestFactory.create<NestFastifyApplication>(root, adapter, settings);
  configureHttp(app, config, options);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

function isTestingModule(root: Type<unknown> | TestingModule): root is TestingModule {
  return typeof (root as Partial<INestApplicationContext & TestingModule>).createNestApplication === 'function';
}

/**
 * Everything about the HTTP surface that is not a route, applied identically by `main.ts`, the
 * tests and the benchmark, before `init()`.
 */
function configureHttp(app: NestFastifyApplication, config: BulkheadConfig, options: { docs?: boolean } = {}): void {
  const logger = app.get(AppLogger);
  app.useLogger(logger);
  const fastify = app.getHttpAdapter().getInstance();
  // Each request is its own unit of work (the tenant context lives in it), opened once the body
  // is parsed: the route's guards, handler and filters all run inside, and nothing outlives it.
  const units = new WeakMap<FastifyRequest, UnitOfWork>();
  // First, so the server span is the context of everything after it (the unit of work, the
  // route, the access log and metrics at the response).
  if (config.TRACING_ENABLED) {
    setSpanTenantSource(() => (peekTenantId() === undefined ? undefined : tenantAttributes(currentTenant())));
    traceRequests(fastify, {
      ratio: config.TRACING_SAMPLE_RATIO,
      tenantOf: (request) => {
        const tenant = units.get(request)?.tenant;
        return tenant ? tenantAttributes(tenant) : undefined;
      },
    });
  }
  fastify.addHook('preHandler', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    runUnitOfWork(request.id, (unit) => {
      units.set(request, unit);
      // For outbound calls on the caller's own token (TenantServiceClient), with its impersonation grant if any.
      rememberCallerCredentials(request.headers.authorization, request.headers[IMPERSONATION_HEADER]);
      done();
    });
  });
  registerAccessLog(fastify, logger, (request) => units.get(request));
  const httpMetrics = config.METRICS_ENABLED ? optional(app, HttpMetrics) : undefined;
  if (httpMetrics) registerHttpMetrics(fastify, httpMetrics, (request) => units.get(request)?.tenant?.tier);
  const usage = optional(app, UsageRecorder);
  if (usage) registerUsageHook(fastify, usage, (request) => units.get(request)?.tenant?.tenantId);
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    // RFC 9112: a server must answer 400 to an HTTP/1.1 request without Host.
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') {
      sendProblem(reply, toProblem(NO_HOST));
      return;
    }
    // And to one with more than one Host (RFC 9112 3.2): Node keeps the first, a proxy may have
    // routed by another, and a tenant's host must not depend on who reads it.
    if (headerCount(request.raw.rawHeaders, 'host') > 1) {
      sendProblem(reply, toProblem(TWO_HOSTS));
      return;
    }
    // A compressed body would reach the JSON parser as bytes it cannot read: 415, as for any
    // encoding the server does not decode (RFC 9110 15.5.16).
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && !['', 'identity'].includes(encoding.trim().toLowerCase()) && hasBody(request)) {
      sendProblem(reply, toProblem(ENCODED));
      return;
    }
    // A write with a body must say it is JSON; anything else is 415, before any parsing.
    if (BODY_METHODS.has(request.method) && hasBody(request) && !JSON_CONTENT_TYPE.test((request.headers['content-type'] ?? '').toLowerCase())) {
      sendProblem(reply, toProblem(NOT_JSON));
      return;
    }
    done();
  });
  // A route may raise its own body limit with `@RouteConfig({ bodyLimit })` (usage batches).
  fastify.addHook('onRoute', (route) => {
    const limit = (route.config as { bodyLimit?: unknown } | undefined)?.bodyLimit;
    if (typeof limit === 'number') route.bodyLimit = limit;
  });
  registerJsonBodyParser(fastify, config.bodyLimitBytes);
  fastify.server.on('checkExpectation', answerUnmetExpectation);
  fastify.server.on('connect', answerConnect);
  // Closing waits for every connection with a request in flight, and one that never completes
  // (a client that stalls mid-body) would hold a stopping process forever: the grace bounds it.
  fastify.addHook('preClose', (done: () => void) => {
    setTimeout(() => fastify.server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
    done();
  });
  app.useGlobalFilters(new ProblemFilter(observerOf(app)));
  app.useGlobalPipes(problemValidationPipe());
  if (options.docs !== false) {
    SwaggerModule.setup('docs', app, buildOpenApiDocument(app), { jsonDocumentUrl: 'docs/openapi.json' });
  }
}

/** A provider the app may or may not have (a bench builds the API without some modules). */
function optional<T>(app: NestFastifyApplication, token: Type<T>): T | undefined {
  try {
    return app.get(token, { strict: false });
  } catch {
    return undefined;
  }
}

/** The app's problem observer (the audit trail's refusal recorder), if it provides one. */
function observerOf(app: NestFastifyApplication): ProblemObserver | undefined {
  try {
    return app.get<ProblemObserver>(PROBLEM_OBSERVER, { strict: false });
  } catch {
    return undefined;
  }
}

function hasBody(request: FastifyRequest): boolean {
  return Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
}

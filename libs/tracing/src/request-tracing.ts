import { Attributes, context, Context, propagation, ROOT_CONTEXT, Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const UNTRACED = /^\/(health|metrics)(\/|\?|$)/;

interface TracedRequest {
  readonly span: Span;
  readonly context: Context;
}

export interface RequestTracingOptions {
  /** The share of requests without a caller's trace context that start a trace (TRACING_SAMPLE_RATIO). */
  readonly ratio: number;
  /** The request's tenant as span attributes, once its guards have run (undefined for none). */
  readonly tenantOf: (request: FastifyRequest) => Attributes | undefined;
}

/**
 * The server span of each traced request, from Fastify's own hooks rather than the HTTP
 * instrumentation's patch of every incoming request. The choice is made first: a request with no
 * `traceparent` is traced at `ratio`, and an unchosen one gets nothing at all (no span, no context,
 * no listener), so the pg and ioredis instrumentations (`requireParentSpan`) skip its queries too.
 * The instrumentation, even told to ignore a request, ran it in a context of its own and bound
 * that context into the request's and the response's event emitters (every listener Fastify then
 * added was wrapped): that fixed cost, on every request, was most of what tracing at 10% cost the
 * scoped GET. A request with a `traceparent` keeps its caller's decision (the SDK's parent-based
 * sampler), sampled or not, so its log lines carry the caller's trace id either way.
 *
 * The span starts when the request arrives and becomes the active context in `preHandler` (after
 * the body is read: a body's stream events would not carry it), around everything the route does;
 * it ends with the response, named after the route template, with the tenant on it, and the
 * response hooks registered after these (access log, metrics) run inside it, so the access line
 * names the trace too.
 */
export function traceRequests(fastify: FastifyInstance, options: RequestTracingOptions): void {
  const tracer = trace.getTracer('@bulkhead/tracing');
  const traced = new WeakMap<FastifyRequest, TracedRequest>();

  fastify.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    const caller = request.headers.traceparent;
    if ((caller === undefined && Math.random() >= options.ratio) || UNTRACED.test(request.url)) return done();
    const parent = caller === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer.startSpan(
      request.method,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'url.path': request.url.split('?', 1)[0], 'url.scheme': request.protocol } },
      parent,
    );
    traced.set(request, { span, context: trace.setSpan(parent, span) });
    done();
  });

  fastify.addHook('preHandler', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    const entry = traced.get(request);
    if (!entry) return done();
    context.with(entry.context, done);
  });

  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const entry = traced.get(request);
    if (!entry) return done();
    const { span } = entry;
    if (span.isRecording()) {
      const route = request.routeOptions.url;
      if (route !== undefined) {
        span.updateName(`${request.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      const tenant = options.tenantOf(request);
      if (tenant) span.setAttributes(tenant);
    }
    span.end();
    context.with(entry.context, done);
  });
}

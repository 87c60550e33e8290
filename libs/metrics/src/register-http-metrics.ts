import type { TenantTier } from '@bulkhead/config';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpMetrics } from './http-metrics';

/**
 * Counts every answered request from Fastify's `onResponse` (after the answer is sent, so it adds
 * nothing to latency); `tierOf` reads the request's tenant tier once the tenant guard set it.
 * Health probes and the scrape itself are not counted.
 */
export function registerHttpMetrics(fastify: FastifyInstance, metrics: HttpMetrics, tierOf: (request: FastifyRequest) => TenantTier | undefined): void {
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const route = request.routeOptions.url;
    if (route === undefined || (!route.startsWith('/health') && route !== '/metrics')) {
      metrics.observe(request.method, route, reply.statusCode, tierOf(request), reply.elapsedTime / 1000);
    }
    done();
  });
}

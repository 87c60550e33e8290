import type { UnitOfWork } from '@bulkhead/tenancy';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppLogger } from './app.logger';

/**
 * One line per answered request, at info, written when the response has been sent: method, URL,
 * status, time taken, request id and (once the tenant guard established it) the tenant. Health
 * probes are not logged: they would drown the rest. `unitOf` finds the request's unit of work.
 */
export function registerAccessLog(fastify: FastifyInstance, logger: AppLogger, unitOf: (request: FastifyRequest) => UnitOfWork | undefined): void {
  if (!logger.pino.isLevelEnabled('info')) return;
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (!request.url.startsWith('/health')) {
      logger.pino.info(
        {
          tenantId: unitOf(request)?.tenant?.tenantId,
          req: { id: request.id, method: request.method, url: request.url },
          res: { statusCode: reply.statusCode },
          responseTime: Math.round(reply.elapsedTime * 10) / 10,
        },
        'request completed',
      );
    }
    done();
  });
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UsageRecorder } from './usage.recorder';

/** Counts each answered request of a known tenant (`onResponse`, after the answer is sent). */
export function registerUsageHook(fastify: FastifyInstance, recorder: UsageRecorder, tenantIdOf: (request: FastifyRequest) => string | undefined): void {
  fastify.addHook('onResponse', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    const tenantId = tenantIdOf(request);
    if (tenantId !== undefined) recorder.request(tenantId);
    done();
  });
}

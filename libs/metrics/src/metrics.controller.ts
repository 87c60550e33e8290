import { AcceptsAnyQuery } from '@bulkhead/openapi';
import { BulkheadConfig } from '@bulkhead/config';
import { Public } from '@bulkhead/identity';
import { Controller, Get, NotFoundException, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { MetricsRegistry } from './metrics.registry';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * `/metrics` for Prometheus. It names the heaviest tenants, so it is never open: without
 * METRICS_TOKEN it answers 404 as if absent, and with it only a scrape carrying
 * `Authorization: Bearer <METRICS_TOKEN>` is served (404 otherwise too: nothing to probe for).
 * Not a tenant or operator route, so it stays out of the OpenAPI document.
 */
@ApiExcludeController()
@Public()
@AcceptsAnyQuery()
@Controller('metrics')
export class MetricsController {
  private readonly expected: Buffer | undefined;

  constructor(
    private readonly metrics: MetricsRegistry,
    config: BulkheadConfig,
  ) {
    this.expected = config.METRICS_TOKEN ? digest(`Bearer ${config.METRICS_TOKEN}`) : undefined;
  }

  @Get()
  async scrape(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const given = request.headers.authorization;
    if (!this.expected || given === undefined || !timingSafeEqual(digest(given), this.expected)) {
      // What an unknown path gets, to the byte: a prober learns nothing.
      throw new NotFoundException();
    }
    const body = await this.metrics.registry.metrics();
    // Set here, past the check: a refused scrape's 404 carries no header an unknown path's lacks.
    await reply.code(200).header('content-type', this.metrics.registry.contentType).header('cache-control', 'no-store').send(body);
  }
}

import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * This app's Prometheus registry: one per app (not prom-client's global one), so two apps in one
 * process (tests, benchmarks) never count into each other. Other libs register their metrics
 * here; gauges read their sources at scrape time (`collect`), never on the request path.
 */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'bulkhead_' });
  }
}

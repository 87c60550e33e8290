import { TenantTier } from '@bulkhead/config';
import { Injectable } from '@nestjs/common';
import { Histogram } from 'prom-client';
import { MetricsRegistry } from './metrics.registry';

/** Request duration buckets (seconds): the scoped reads answer in about a millisecond. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const TIERS = ['free', 'pro', 'enterprise', 'none'] as const;
const UNMATCHED = 'unmatched';

type Child = ReturnType<Histogram<'method' | 'route' | 'status' | 'tier'>['labels']>;

/** The series of one route and method: a child per status and tier, made once and reused. */
class RouteSeries {
  private readonly children = new Map<number, Child>();

  constructor(
    private readonly histogram: Histogram<'method' | 'route' | 'status' | 'tier'>,
    private readonly method: string,
    private readonly route: string,
  ) {}

  observe(status: number, tier: number, seconds: number): void {
    const key = status * 4 + tier;
    let child = this.children.get(key);
    if (!child) {
      child = this.histogram.labels(this.method, this.route, String(status), TIERS[tier]);
      this.children.set(key, child);
    }
    child.observe(seconds);
  }
}

/**
 * Request rate, latency and errors by route template, method, status and tier: one histogram
 * (`_count` is the rate, `status` the errors). Every label is bounded: the route is the template
 * (`/v1/customers/:id`), never the URL; unknown paths are `unmatched`; the tier is one of three
 * (or `none` before a tenant is known). No tenant id, ever.
 */
@Injectable()
export class HttpMetrics {
  private readonly histogram: Histogram<'method' | 'route' | 'status' | 'tier'>;
  private readonly routes = new Map<string, Map<string, RouteSeries>>();

  constructor(metrics: MetricsRegistry) {
    this.histogram = new Histogram({
      name: 'bulkhead_http_request_duration_seconds',
      help: 'HTTP requests by route template, method, status and tenant tier: duration in seconds (_count is the request count)',
      labelNames: ['method', 'route', 'status', 'tier'],
      buckets: BUCKETS,
      registers: [metrics.registry],
    });
  }

  /** One answered request; allocation-free after a series' first request. */
  observe(method: string, route: string | undefined, status: number, tier: TenantTier | undefined, seconds: number): void {
    const template = route ?? UNMATCHED;
    let byMethod = this.routes.get(template);
    if (!byMethod) {
      byMethod = new Map();
      this.routes.set(template, byMethod);
    }
    let series = byMethod.get(method);
    if (!series) {
      series = new RouteSeries(this.histogram, method, template);
      byMethod.set(method, series);
    }
    series.observe(status, tier === undefined ? 3 : tier === 'free' ? 0 : tier === 'pro' ? 1 : 2, seconds);
  }
}

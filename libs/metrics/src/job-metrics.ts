import { JobsOverview } from '@bulkhead/jobs';
import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsRegistry } from './metrics.registry';

/** Jobs by state and the fair queue's backlog, read from Redis at scrape time (shared by every instance). */
@Injectable()
export class JobMetrics {
  constructor(metrics: MetricsRegistry, jobs: JobsOverview) {
    let pending: Promise<Awaited<ReturnType<JobsOverview['counts']>> | undefined> | undefined;
    // One Redis read per scrape feeds both gauges.
    const read = () => {
      pending ??= jobs
        .counts()
        .catch(() => undefined)
        .finally(() => setImmediate(() => (pending = undefined)));
      return pending;
    };
    new Gauge({
      name: 'bulkhead_jobs',
      help: 'Jobs admitted into BullMQ, by state',
      labelNames: ['state'],
      registers: [metrics.registry],
      async collect() {
        const counts = await read();
        if (!counts) return;
        for (const [state, count] of Object.entries(counts.states)) this.set({ state }, count);
      },
    });
    new Gauge({
      name: 'bulkhead_fair_queue',
      help: "The fair queue in front of BullMQ: backlogged_tenants (tenants with buffered jobs), in_flight (admitted, unfinished), staged",
      labelNames: ['measure'],
      registers: [metrics.registry],
      async collect() {
        const counts = await read();
        if (!counts) return;
        this.set({ measure: 'backlogged_tenants' }, counts.fair.backloggedTenants);
        this.set({ measure: 'in_flight' }, counts.fair.inFlight);
        this.set({ measure: 'staged' }, counts.fair.staged);
      },
    });
  }
}

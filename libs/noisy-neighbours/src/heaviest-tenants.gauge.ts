import { BulkheadConfig } from '@bulkhead/config';
import { MetricsRegistry } from '@bulkhead/metrics';
import { Injectable, Optional } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { NoisyRedis } from './noisy.redis';
import { minuteOf, Usage } from './usage-measures';
import { NoisyKeys } from './usage.keys';
import { UsageStore } from './usage.store';

/**
 * The only metrics with a tenant label: the METRICS_HEAVY_TENANTS heaviest tenants of the last
 * complete minute (summed over every instance), by requests and by database time, reset at every
 * scrape so no tenant lingers as a series. Plus how many tenants are flagged noisy now.
 */
@Injectable()
export class HeaviestTenantsGauge {
  constructor(config: BulkheadConfig, store: UsageStore, redis: NoisyRedis, keys: NoisyKeys, @Optional() metrics?: MetricsRegistry) {
    if (!metrics) return;
    const top = config.METRICS_HEAVY_TENANTS;
    let pending: Promise<Map<string, Usage> | undefined> | undefined;
    const read = () => {
      pending ??= store
        .minute(minuteOf(Date.now()) - 1)
        .catch(() => undefined)
        .finally(() => setImmediate(() => (pending = undefined)));
      return pending;
    };
    const ranked = (usage: Map<string, Usage>, measure: keyof Usage) =>
      [...usage.entries()].filter(([, entry]) => entry[measure] > 0).sort((a, b) => b[1][measure] - a[1][measure]).slice(0, top);
    const registers = [metrics.registry];
    new Gauge({
      name: 'bulkhead_tenant_heaviest_requests',
      help: `Requests in the last complete minute of the ${top} heaviest tenants (capped; the only tenant-labelled series)`,
      labelNames: ['rank', 'tenant_id'],
      registers,
      async collect() {
        this.reset();
        const usage = await read();
        if (usage) ranked(usage, 'requests').forEach(([tenantId, entry], at) => this.set({ rank: String(at + 1), tenant_id: tenantId }, entry.requests));
      },
    });
    new Gauge({
      name: 'bulkhead_tenant_heaviest_db_seconds',
      help: `Seconds holding database connections in the last complete minute, of the ${top} heaviest tenants (capped)`,
      labelNames: ['rank', 'tenant_id'],
      registers,
      async collect() {
        this.reset();
        const usage = await read();
        if (usage) ranked(usage, 'db_ms').forEach(([tenantId, entry], at) => this.set({ rank: String(at + 1), tenant_id: tenantId }, entry.db_ms / 1000));
      },
    });
    new Gauge({
      name: 'bulkhead_noisy_tenants',
      help: 'Tenants flagged noisy now (above NOISY_RATIO x the median)',
      registers,
      async collect() {
        const count = await redis.client.hlen(keys.current).catch(() => undefined);
        if (count !== undefined) this.set(count);
      },
    });
  }
}

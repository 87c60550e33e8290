import { Injectable } from '@nestjs/common';
import { NoisyRedis } from './noisy.redis';
import { Usage, USAGE_MEASURES, UsageMeasure } from './usage-measures';
import { NoisyKeys, USAGE_RETENTION_SECONDS } from './usage.keys';

/** Per-tenant usage per minute in Redis, summed over every instance. */
@Injectable()
export class UsageStore {
  constructor(
    private readonly redis: NoisyRedis,
    private readonly keys: NoisyKeys,
  ) {}

  /** Adds one batch of a minute's usage, in one round trip. */
  async add(minute: number, batch: ReadonlyMap<string, Partial<Usage>>): Promise<void> {
    if (batch.size === 0) return;
    const pipeline = this.redis.client.pipeline();
    const touched = new Set<UsageMeasure>();
    for (const [tenantId, usage] of batch) {
      for (const measure of USAGE_MEASURES) {
        const amount = usage[measure];
        if (!amount) continue;
        pipeline.hincrbyfloat(this.keys.usage(minute, measure), tenantId, amount);
        touched.add(measure);
      }
    }
    for (const measure of touched) pipeline.expire(this.keys.usage(minute, measure), USAGE_RETENTION_SECONDS);
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error);
    if (failed) throw failed[0];
  }

  /** Every tenant's usage in a minute (missing measures are 0). */
  async minute(minute: number): Promise<Map<string, Usage>> {
    const pipeline = this.redis.client.pipeline();
    for (const measure of USAGE_MEASURES) pipeline.hgetall(this.keys.usage(minute, measure));
    const results = (await pipeline.exec()) ?? [];
    const usage = new Map<string, Usage>();
    USAGE_MEASURES.forEach((measure, at) => {
      const [error, hash] = results[at] ?? [];
      if (error) throw error;
      for (const [tenantId, value] of Object.entries((hash ?? {}) as Record<string, string>)) {
        const entry = usage.get(tenantId) ?? { requests: 0, db_ms: 0, job_ms: 0, rows_written: 0 };
        entry[measure] = Number(value);
        usage.set(tenantId, entry);
      }
    });
    return usage;
  }
}

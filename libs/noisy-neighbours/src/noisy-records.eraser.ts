import { TenantRecordsEraser, TenantRecordsEraserProvider } from '@bulkhead/lifecycle';
import { Injectable } from '@nestjs/common';
import { NoisyHistory } from './noisy-history';
import { NoisyRedis } from './noisy.redis';
import { NoisyKeys, USAGE_RETENTION_SECONDS } from './usage.keys';
import { minuteOf, USAGE_MEASURES } from './usage-measures';

/** An offboarded tenant's noisy-neighbour history (`noisy_tenant_events`) goes with the rest of its data. */
@Injectable()
@TenantRecordsEraserProvider()
export class NoisyHistoryEraser implements TenantRecordsEraser {
  readonly store = 'control:noisy_tenant_events';

  constructor(private readonly history: NoisyHistory) {}

  count(tenantId: string): Promise<number> {
    return this.history.countOf(tenantId);
  }

  erase(tenantId: string): Promise<number> {
    return this.history.eraseOf(tenantId);
  }
}

/**
 * The tenant's fields in the shared Redis hashes (usage per minute and measure for the retained
 * minutes, the detector's streaks and current findings): their key names never carry a tenant id,
 * so the key scan of offboarding cannot find them. One pipeline per minute: a minute's hashes share
 * one hash tag, so this also runs on a Redis Cluster.
 */
@Injectable()
@TenantRecordsEraserProvider()
export class NoisyUsageEraser implements TenantRecordsEraser {
  readonly store = 'redis:noisy-neighbour-fields';

  constructor(
    private readonly redis: NoisyRedis,
    private readonly keys: NoisyKeys,
  ) {}

  async count(tenantId: string): Promise<number> {
    return this.each(tenantId, 'hexists');
  }

  async erase(tenantId: string): Promise<number> {
    return this.each(tenantId, 'hdel');
  }

  private async each(tenantId: string, command: 'hexists' | 'hdel'): Promise<number> {
    const groups = [[this.keys.streaks, this.keys.current]];
    const now = minuteOf(Date.now());
    // One minute ahead too: an instance whose clock runs a little fast may already count there.
    for (let minute = now + 1; minute >= now - USAGE_RETENTION_SECONDS / 60; minute--) groups.push(USAGE_MEASURES.map((measure) => this.keys.usage(minute, measure)));
    let total = 0;
    for (const keys of groups) {
      const pipeline = this.redis.client.pipeline();
      for (const key of keys) pipeline[command](key, tenantId);
      for (const [error, result] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        total += Number(result);
      }
    }
    return total;
  }
}

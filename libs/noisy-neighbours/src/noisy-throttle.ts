import { BulkheadConfig } from '@bulkhead/config';
import { parsePgUrl } from '@bulkhead/database';
import { TenantRateLimiter } from '@bulkhead/rate-limit';
import { Injectable, Logger, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import { createRedis, RedisClient } from '@bulkhead/redis';
import { NoisyRedis } from './noisy.redis';
import { NoisyKeys } from './usage.keys';

const REFRESH_MS = 30_000;

/**
 * With NOISY_THROTTLE_FACTOR below 1, lowers the rate limits of the flagged tenants on every API
 * instance: the detector announces each change on `bulkhead:<db>:noisy-changed`, every instance
 * with a rate limiter re-reads the flagged set (and every 30 s, for a missed message).
 */
@Injectable()
export class NoisyThrottle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('NoisyThrottle');
  private readonly channel: string;
  private subscriber: RedisClient | undefined;
  private readonly publisher: RedisClient;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: BulkheadConfig,
    private readonly redis: NoisyRedis,
    private readonly keys: NoisyKeys,
    @Optional() private readonly limiter?: TenantRateLimiter,
  ) {
    this.channel = `bulkhead:${parsePgUrl(config.DATABASE_URL).database}:noisy-changed`;
    this.publisher = createRedis(config, { lazyConnect: true, maxRetriesPerRequest: 1, connectionName: 'bulkhead-noisy-feed' });
    this.publisher.on('error', () => undefined);
  }

  private get active(): boolean {
    return this.limiter !== undefined && this.config.NOISY_THROTTLE_FACTOR < 1;
  }

  async onModuleInit(): Promise<void> {
    if (!this.active) return;
    this.subscriber = createRedis(this.config, { lazyConnect: true, maxRetriesPerRequest: 1, connectionName: 'bulkhead-noisy-feed' });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', () => void this.refresh());
    await this.subscriber.subscribe(this.channel).catch(() => undefined);
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.timer.unref();
  }

  /** Tells every instance the flagged set changed. */
  async announce(): Promise<void> {
    await this.publisher.publish(this.channel, '1').catch((error) => this.logger.warn({ err: error }, 'could not announce a noisy-tenant change'));
  }

  async refresh(): Promise<void> {
    if (!this.active) return;
    try {
      const flagged = await this.redis.client.hkeys(this.keys.current);
      this.limiter!.throttle(flagged, this.config.NOISY_THROTTLE_FACTOR);
    } catch (error) {
      // Redis away: keep the set we have.
      this.logger.debug({ err: error }, 'could not read the noisy tenants');
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.subscriber?.disconnect();
    this.publisher.disconnect();
  }
}

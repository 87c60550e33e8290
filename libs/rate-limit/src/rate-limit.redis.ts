import { BulkheadConfig } from '@bulkhead/config';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { createRedis, RedisClient } from '@bulkhead/redis';

/**
 * The limiter's own connection. It never queues: while it is not connected a command fails at
 * once (`enableOfflineQueue: false`), and one slower than RATE_LIMIT_REDIS_TIMEOUT_MS fails too,
 * so a request is never held up by an unreachable Redis; the in-process limiter decides instead.
 * ioredis keeps reconnecting in the background.
 */
@Injectable()
export class RateLimitRedis implements OnApplicationShutdown {
  readonly client: RedisClient;

  constructor(config: BulkheadConfig) {
    this.client = createRedis(config, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: config.RATE_LIMIT_REDIS_TIMEOUT_MS,
      connectTimeout: 2000,
      // Back within a second of Redis returning, not after ioredis's default growing delays.
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      connectionName: 'bulkhead-rate-limit',
    });
    // Transitions are logged by the limiter; without a listener ioredis prints every failed reconnect.
    this.client.on('error', () => undefined);
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  onApplicationShutdown(): void {
    this.client.disconnect();
  }
}

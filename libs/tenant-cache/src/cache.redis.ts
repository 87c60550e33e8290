import { BulkheadConfig } from '@bulkhead/config';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { createRedis, RedisClient } from '@bulkhead/redis';

/**
 * The cache's own connections: one for commands, one subscribed to invalidations. Commands never
 * queue while Redis is away (a cache read then misses, a write is skipped): a cache outage costs
 * speed, never availability.
 */
@Injectable()
export class CacheRedis implements OnApplicationShutdown {
  readonly client: RedisClient;
  readonly subscriber: RedisClient;

  constructor(config: BulkheadConfig) {
    const options = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 250,
      connectTimeout: 2000,
      retryStrategy: (attempt: number) => Math.min(attempt * 100, 1000),
    };
    this.client = createRedis(config, { ...options, connectionName: 'bulkhead-cache' });
    this.subscriber = createRedis(config, { lazyConnect: true, maxRetriesPerRequest: 1, connectionName: 'bulkhead-cache-feed' });
    for (const client of [this.client, this.subscriber]) client.on('error', () => undefined);
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  onApplicationShutdown(): void {
    this.subscriber.disconnect();
    this.client.disconnect();
  }
}

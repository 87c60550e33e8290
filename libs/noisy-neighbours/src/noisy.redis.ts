import { BulkheadConfig } from '@bulkhead/config';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { createRedis, RedisClient } from '@bulkhead/redis';

/** The usage recorder's and detector's connection; it never queues while Redis is away. */
@Injectable()
export class NoisyRedis implements OnApplicationShutdown {
  readonly client: RedisClient;

  constructor(config: BulkheadConfig) {
    this.client = createRedis(config, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 2000,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      connectionName: 'bulkhead-usage',
    });
    this.client.on('error', () => undefined);
  }

  onApplicationShutdown(): void {
    this.client.disconnect();
  }
}

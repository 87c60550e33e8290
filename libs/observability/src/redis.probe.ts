import { BulkheadConfig } from '@bulkhead/config';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { createRedis, RedisClient } from '@bulkhead/redis';

/** A dedicated connection for readiness, failing fast rather than queueing while Redis is down. */
@Injectable()
export class RedisProbe implements OnApplicationShutdown {
  private readonly client: RedisClient;
  /** The connection under way: probes arriving together wait for it (the client queues nothing). */
  private connecting: Promise<void> | undefined;

  constructor(config: BulkheadConfig) {
    this.client = createRedis(config, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      connectionName: 'bulkhead-readiness',
    });
    this.client.on('error', () => undefined);
  }

  async ping(): Promise<void> {
    if (this.client.status === 'wait' || this.client.status === 'end') {
      this.connecting ??= this.client.connect().finally(() => {
        this.connecting = undefined;
      });
    }
    // Every probe that arrives while it connects waits for it: they failed (503) meanwhile.
    if (this.connecting) await this.connecting;
    await this.client.ping();
  }

  async onApplicationShutdown(): Promise<void> {
    this.client.disconnect();
  }
}

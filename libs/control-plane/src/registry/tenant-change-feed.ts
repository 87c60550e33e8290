import { BulkheadConfig } from '@bulkhead/config';
import { isTenantId, parsePgUrl } from '@bulkhead/database';
import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { createRedis, RedisClient } from '@bulkhead/redis';
import { TenantRegistry } from './tenant-registry';


interface TenantChanged {
  id: string;
  externalRef: string | null;
}

/**
 * Tells every instance that a tenant changed (suspended, reactivated, placed), through Redis
 * pub/sub, so each drops its cached copy at once. Pub/sub delivers at most once: a message missed
 * while disconnected is covered by the cache's TTL. The channel is named after the control-plane
 * database, so deployments sharing a Redis do not hear each other.
 */
@Injectable()
export class TenantChangeFeed implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('TenantChangeFeed');
  private readonly channel: string;
  private readonly publisher: RedisClient;
  private readonly subscriber: RedisClient;

  constructor(
    config: BulkheadConfig,
    private readonly registry: TenantRegistry,
  ) {
    this.channel = `bulkhead:${parsePgUrl(config.DATABASE_URL).database}:tenant-changed`;
    const options = { lazyConnect: true, maxRetriesPerRequest: 1, connectionName: 'bulkhead-tenant-feed' };
    this.publisher = createRedis(config, options);
    this.subscriber = createRedis(config, options);
    for (const client of [this.publisher, this.subscriber]) client.on('error', () => undefined);
  }

  async onModuleInit(): Promise<void> {
    this.subscriber.on('message', (_channel, message) => this.receive(message));
    await this.subscriber.subscribe(this.channel);
  }

  async publish(tenant: TenantChanged): Promise<void> {
    this.registry.forget(tenant);
    try {
      await this.publisher.publish(this.channel, JSON.stringify({ id: tenant.id, externalRef: tenant.externalRef }));
    } catch (error) {
      // The change is committed; other instances fall back to their cache TTL.
      this.logger.warn({ err: error, tenantId: tenant.id }, 'could not announce a tenant change');
    }
  }

  private receive(message: string): void {
    try {
      const change = JSON.parse(message) as Partial<TenantChanged>;
      if (!isTenantId(change.id)) return;
      this.registry.forget({ id: change.id, externalRef: typeof change.externalRef === 'string' ? change.externalRef : null });
    } catch {
      // Not ours, or garbled: nothing to forget.
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.subscriber.disconnect();
    this.publisher.disconnect();
  }
}

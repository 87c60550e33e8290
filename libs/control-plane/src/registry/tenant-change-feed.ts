import { BulkheadConfig } from '@bulkhead/config';
import { isTenantId, parsePgUrl } from '@bulkhead/database';
import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { createRedis, RedisClient } from '@bulkhead/redis';
import { TenantRegistry } from './tenant-registry';
import { TenantRepository } from './tenant.repository';

/**
 * How long after its update a change to a tenant may commit and still be found by the poll (the
 * poll looks this far behind its previous look). Transactions that change a tenant are short;
 * one that stays open longer leaves its change to the announcement and, failing that, to no one.
 */
const COMMIT_LAG_MS = 60_000;

interface TenantChanged {
  id: string;
  externalRef: string | null;
}

/**
 * Tells every instance that a tenant changed (suspended, reactivated, placed), through Redis
 * pub/sub, so each drops its cached copy at once. Pub/sub delivers at most once, so each instance
 * also polls the registry every half TENANT_CACHE_TTL_MS for the tenants changed since its last
 * look (one indexed query, whatever the fleet's size), forgets those, and vouches for the rest of
 * its cache (TenantRegistry.confirm). The channel is named after the control-plane database, so
 * deployments sharing a Redis do not hear each other.
 */
@Injectable()
export class TenantChangeFeed implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('TenantChangeFeed');
  private readonly channel: string;
  private readonly publisher: RedisClient;
  private readonly subscriber: RedisClient;
  private poller?: NodeJS.Timeout;
  /** The database's clock at the last look that answered. */
  private polledUpTo: string | null = null;
  /** Each tenant the last look found, at the version it found: found again unchanged, it is not forgotten again. */
  private seen = new Map<string, string>();
  private pollFailing = false;
  /** The look under way (or the last one): looks run one after another, never overlapping. */
  private polling: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly config: BulkheadConfig,
    private readonly registry: TenantRegistry,
    private readonly tenants: TenantRepository,
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
    if (this.config.TENANT_CACHE_TTL_MS > 0) {
      // No look at start-up (every process, the CLI's too, would pay a query for it): the first
      // look comes within half a TTL (30 s at most) and looks COMMIT_LAG_MS back, which covers
      // everything since this process started; until it answers, cached tenants expire by the TTL.
      const every = Math.max(50, Math.floor(this.config.TENANT_CACHE_TTL_MS / 2));
      // Rescheduled by each look as it ends: a slow database never has two looks in flight.
      const next = () => {
        if (!this.stopped) this.poller = setTimeout(() => void this.poll().finally(next), every).unref();
      };
      next();
    }
  }

  /**
   * One look at the tenants changed since the last one that answered, sent after any look under
   * way has ended (an older look finishing last would put back older state).
   */
  poll(): Promise<void> {
    this.polling = this.polling.then(() => this.look());
    return this.polling;
  }

  private async look(): Promise<void> {
    if (this.stopped) return;
    const sentAt = performance.now();
    try {
      const { now, changed } = await this.tenants.changedSince(this.polledUpTo, COMMIT_LAG_MS);
      const seen = new Map<string, string>();
      for (const tenant of changed) {
        seen.set(tenant.id, tenant.version);
        if (this.seen.get(tenant.id) !== tenant.version) this.registry.forget(tenant);
      }
      this.seen = seen;
      this.polledUpTo = now;
      this.registry.confirm(sentAt);
      if (this.pollFailing) this.logger.log('tenant change poll answers again');
      this.pollFailing = false;
    } catch (error) {
      // Nothing vouched for: cached tenants are looked up again once TENANT_CACHE_TTL_MS old.
      if (!this.pollFailing) this.logger.warn({ err: error }, 'tenant change poll failed; cached tenants expire after TENANT_CACHE_TTL_MS');
      this.pollFailing = true;
    }
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
    this.stopped = true;
    clearTimeout(this.poller);
    this.subscriber.disconnect();
    this.publisher.disconnect();
  }
}

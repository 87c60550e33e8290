import { BulkheadConfig } from '@bulkhead/config';
import { parsePgUrl } from '@bulkhead/database';
import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { createRedis, RedisClient } from '@bulkhead/redis';
import { FlagRule } from './flag-rule';
import { FlagStore } from './flag.store';

/** A missed change message is covered by a full reload this often. */
const REFRESH_MS = 30_000;

/**
 * Every flag, in this instance's memory: evaluation never leaves the process. A change made
 * through the operator API is written to the table, then announced over Redis pub/sub beside the
 * tenant change feed (same naming, its own channel), and every instance reloads the catalogue
 * at once. Pub/sub delivers at most once, so a periodic reload bounds a missed message. Tier
 * changes need nothing here: the tier is read from the tenant context, whose registry cache the
 * tenant change feed already invalidates.
 */
@Injectable()
export class FlagCatalogue implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Flags');
  private readonly channel: string;
  private readonly publisher: RedisClient;
  private readonly subscriber: RedisClient;
  private rules = new Map<string, FlagRule>();
  private loading: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    config: BulkheadConfig,
    private readonly store: FlagStore,
  ) {
    this.channel = `bulkhead:${parsePgUrl(config.DATABASE_URL).database}:flags-changed`;
    const options = { lazyConnect: true, maxRetriesPerRequest: 1, connectionName: 'bulkhead-flags-feed' };
    this.publisher = createRedis(config, options);
    this.subscriber = createRedis(config, options);
    for (const client of [this.publisher, this.subscriber]) client.on('error', () => undefined);
  }

  async onModuleInit(): Promise<void> {
    this.subscriber.on('message', () => void this.reload().catch((error) => this.logger.warn({ err: error }, 'flags: reload after a change failed')));
    await this.subscriber.subscribe(this.channel);
    await this.reload();
    this.timer = setInterval(() => void this.reload().catch(() => undefined), REFRESH_MS);
    this.timer.unref();
  }

  /** The flag's rule, or undefined: a synchronous map read. */
  rule(key: string): FlagRule | undefined {
    return this.rules.get(key);
  }

  /** By id (lower case, as ParseIdPipe hands it on), for the operator API (not on any hot path). */
  byId(id: string): FlagRule | undefined {
    for (const rule of this.rules.values()) if (rule.id === id) return rule;
    return undefined;
  }

  all(): IterableIterator<FlagRule> {
    return this.rules.values();
  }

  /** After a write: reload here (so the writer reads its own change) and tell every other instance. */
  async changed(): Promise<void> {
    await this.reload();
    try {
      await this.publisher.publish(this.channel, '1');
    } catch (error) {
      this.logger.warn({ err: error }, 'flags: could not announce a change; other instances reload within 30 s');
    }
  }

  /** Reloads the whole catalogue; a reload asked for while one runs runs once more after it. */
  reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        do {
          this.again = false;
          const rules = await this.store.loadAll();
          this.rules = new Map(rules.map((rule) => [rule.key, rule]));
        } while (this.again);
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.subscriber.disconnect();
    this.publisher.disconnect();
  }
}

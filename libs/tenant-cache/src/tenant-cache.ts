import { BulkheadConfig } from '@bulkhead/config';
import { parsePgUrl } from '@bulkhead/database';
import { currentTenant } from '@bulkhead/tenancy';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { assertLogical, CacheEntryOptions, StoredEntry } from './cache-options';
import { entryKey, localKey, tagKey } from './cache-keys';
import { CacheRedis } from './cache.redis';

interface LocalEntry {
  readonly tenantId: string;
  /** The value as JSON: each hit parses its own copy, so no caller can change another's. */
  readonly json: string;
  readonly tags: readonly string[];
}

interface Invalidation {
  readonly tenantId: string;
  readonly tag?: string;
  readonly key?: string;
}

/**
 * A cache whose namespace is the tenant of the current unit of work: every method reads the
 * tenant from the context (and throws without one), every key is built here under that tenant's
 * prefix, and no method takes a raw Redis key. Two tiers: Redis, shared by every instance, and a
 * small in-process LRU in front of it.
 *
 * Tags are versions: invalidating a tag increments its counter; an entry records the versions of
 * its tags when its value was read from the source, and is a miss once any has moved. A value
 * loaded while its tag was invalidated is therefore never served. Invalidations are announced
 * over pub/sub, so every instance drops its in-process copies at once (CACHE_LOCAL_TTL_MS bounds
 * a missed message). Values are JSON.
 */
@Injectable()
export class TenantCache implements OnModuleInit {
  private readonly logger = new Logger('TenantCache');
  private readonly local: LRUCache<string, LocalEntry> | undefined;
  private readonly channel: string;
  private readonly localTtlMs: number;
  private readonly maxTtlMs: number;
  /**
   * Counts this instance's local drops. A read fills the in-process tier only if none happened
   * while it was reading Redis: a value read just before an invalidation, filled in just after
   * it, would otherwise be served for CACHE_LOCAL_TTL_MS.
   */
  private localDrops = 0;

  constructor(
    config: BulkheadConfig,
    private readonly redis: CacheRedis,
  ) {
    this.localTtlMs = config.CACHE_LOCAL_TTL_MS;
    this.maxTtlMs = config.CACHE_MAX_TTL_MS;
    this.local = config.CACHE_LOCAL_TTL_MS > 0 && config.CACHE_LOCAL_MAX_ENTRIES > 0 ? new LRUCache({ max: config.CACHE_LOCAL_MAX_ENTRIES, ttl: config.CACHE_LOCAL_TTL_MS }) : undefined;
    this.channel = `bulkhead:${parsePgUrl(config.DATABASE_URL).database}:cache-invalidated`;
  }

  async onModuleInit(): Promise<void> {
    this.redis.subscriber.on('message', (_channel, message) => this.received(message));
    try {
      await this.redis.subscriber.subscribe(this.channel);
    } catch (error) {
      // Redis away at start: ioredis resubscribes on reconnect; CACHE_LOCAL_TTL_MS bounds staleness meanwhile.
      this.logger.warn({ err: error }, 'tenant cache: could not subscribe to invalidations yet');
    }
  }

  /** The current tenant's value under `key`, or undefined (absent, expired, invalidated, or Redis away). */
  async get<T>(key: string): Promise<T | undefined> {
    assertLogical('key', key);
    return this.read<T>(currentTenant().tenantId, key);
  }

  /** Stores `value` under `key` for the current tenant. Skipped (not failed) while Redis is away. */
  async set(key: string, value: unknown, options: CacheEntryOptions): Promise<void> {
    assertLogical('key', key);
    const tenantId = currentTenant().tenantId;
    const tags = this.tagsOf(options);
    const versions = await this.versionsOf(tenantId, tags);
    if (versions) await this.write(tenantId, key, value, options.ttlMs, tags, versions);
  }

  /**
   * The cached value, or `load()`'s, stored for next time. Tag versions are read before loading:
   * if a tag is invalidated while `load` runs, the stored entry is already stale and never served.
   */
  async getOrLoad<T>(key: string, load: () => Promise<T>, options: CacheEntryOptions): Promise<T> {
    assertLogical('key', key);
    const tenantId = currentTenant().tenantId;
    const cached = await this.read<T>(tenantId, key);
    if (cached !== undefined) return cached;
    const tags = this.tagsOf(options);
    const versions = await this.versionsOf(tenantId, tags);
    const value = await load();
    if (versions && value !== undefined) await this.write(tenantId, key, value, options.ttlMs, tags, versions);
    return value;
  }

  /** Drops the current tenant's entry under `key` on every instance. Throws if Redis cannot be told. */
  async delete(key: string): Promise<void> {
    assertLogical('key', key);
    const tenantId = currentTenant().tenantId;
    await this.redis.client.del(entryKey(tenantId, key));
    this.dropLocal({ tenantId, key });
    await this.announce({ tenantId, key });
  }

  /**
   * Makes every entry of the current tenant carrying `tag` a miss, on every instance. Throws if
   * Redis cannot be told (the caller, a job say, retries): an invalidation is never silently lost.
   */
  async invalidateTag(tag: string): Promise<void> {
    assertLogical('tag', tag);
    const tenantId = currentTenant().tenantId;
    // The tag outlives every entry that may carry an older version of it, so a version never repeats.
    await this.redis.client.multi().incr(tagKey(tenantId, tag)).pexpire(tagKey(tenantId, tag), this.maxTtlMs).exec();
    this.dropLocal({ tenantId, tag });
    await this.announce({ tenantId, tag });
  }

  private async read<T>(tenantId: string, key: string): Promise<T | undefined> {
    const held = this.local?.get(localKey(tenantId, key));
    if (held) return JSON.parse(held.json) as T;
    if (!this.redis.ready) return undefined;
    const drops = this.localDrops;
    try {
      const text = await this.redis.client.get(entryKey(tenantId, key));
      if (text === null) return undefined;
      const entry = JSON.parse(text) as StoredEntry;
      const tags = Object.keys(entry.t ?? {});
      if (tags.length > 0) {
        const current = await this.redis.client.mget(tags.map((tag) => tagKey(tenantId, tag)));
        if (tags.some((tag, at) => Number(current[at] ?? 0) !== entry.t![tag])) return undefined;
      }
      if (this.local) {
        const ttl = await this.redis.client.pttl(entryKey(tenantId, key));
        if (ttl > 0 && drops === this.localDrops) this.local.set(localKey(tenantId, key), { tenantId, json: JSON.stringify(entry.v), tags }, { ttl: Math.min(ttl, this.localTtlMs) });
      }
      return entry.v as T;
    } catch (error) {
      this.logger.debug({ err: error }, 'tenant cache read failed; treated as a miss');
      return undefined;
    }
  }

  private async versionsOf(tenantId: string, tags: readonly string[]): Promise<Record<string, number> | undefined> {
    if (!this.redis.ready) return undefined;
    if (tags.length === 0) return {};
    try {
      const current = await this.redis.client.mget(tags.map((tag) => tagKey(tenantId, tag)));
      return Object.fromEntries(tags.map((tag, at) => [tag, Number(current[at] ?? 0)]));
    } catch {
      return undefined;
    }
  }

  private async write(tenantId: string, key: string, value: unknown, ttlMs: number, tags: readonly string[], versions: Record<string, number>): Promise<void> {
    const ttl = Math.max(1, Math.min(Math.floor(ttlMs), this.maxTtlMs));
    const entry: StoredEntry = tags.length > 0 ? { v: value, t: versions } : { v: value };
    try {
      await this.redis.client.set(entryKey(tenantId, key), JSON.stringify(entry), 'PX', ttl);
    } catch (error) {
      this.logger.debug({ err: error }, 'tenant cache write skipped');
    }
  }

  private tagsOf(options: CacheEntryOptions): readonly string[] {
    const tags = options.tags ?? [];
    for (const tag of tags) assertLogical('tag', tag);
    return tags;
  }

  private async announce(change: Invalidation): Promise<void> {
    if (!this.local) return;
    await this.redis.client.publish(this.channel, JSON.stringify(change));
  }

  private received(message: string): void {
    try {
      const change = JSON.parse(message) as Invalidation;
      if (typeof change.tenantId === 'string') this.dropLocal(change);
    } catch {
      // garbled: nothing to drop
    }
  }

  private dropLocal(change: Invalidation): void {
    if (!this.local) return;
    this.localDrops += 1;
    if (change.key !== undefined) {
      this.local.delete(localKey(change.tenantId, change.key));
      return;
    }
    for (const [key, entry] of this.local.entries()) {
      if (entry.tenantId === change.tenantId && change.tag !== undefined && entry.tags.includes(change.tag)) this.local.delete(key);
    }
  }
}

import { BulkheadConfig } from '@bulkhead/config';
import { createRedis, keyspaceNodes, RedisClient } from '@bulkhead/redis';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';

/**
 * Every Redis key that names a tenant (its buffered jobs, rate-limit state, request counts, ...):
 * the platform's keys carry the tenant id, so a SCAN for it finds them all, whichever lib wrote them.
 * On a Redis Cluster every master is scanned (a SCAN sees one node's keys only).
 */
@Injectable()
export class RedisTenantKeys implements OnApplicationShutdown {
  private readonly client: RedisClient;

  constructor(config: BulkheadConfig) {
    this.client = createRedis(config, { lazyConnect: true, maxRetriesPerRequest: 1, connectionName: 'bulkhead-lifecycle' });
    this.client.on('error', () => undefined);
  }

  async keys(tenantId: string): Promise<string[]> {
    const found: string[] = [];
    for (const node of await keyspaceNodes(this.client)) {
      let cursor = '0';
      do {
        const [next, batch] = await node.scan(cursor, 'MATCH', `*${tenantId}*`, 'COUNT', 1000);
        found.push(...batch);
        cursor = next;
      } while (cursor !== '0');
    }
    return [...new Set(found)].sort();
  }

  /** Each key as JSON-friendly content, for the archive (type and value). */
  async dump(keys: string[]): Promise<Array<{ key: string; type: string; value: unknown }>> {
    const out: Array<{ key: string; type: string; value: unknown }> = [];
    for (const key of keys) {
      const type = await this.client.type(key);
      let value: unknown = null;
      if (type === 'string') value = await this.client.get(key);
      else if (type === 'list') value = await this.client.lrange(key, 0, -1);
      else if (type === 'hash') value = await this.client.hgetall(key);
      else if (type === 'set') value = (await this.client.smembers(key)).sort();
      else if (type === 'zset') value = await this.client.zrange(key, 0, -1, 'WITHSCORES');
      out.push({ key, type, value });
    }
    return out;
  }

  async erase(tenantId: string): Promise<number> {
    const keys = await this.keys(tenantId);
    // One key per DEL: on a cluster the keys of one call must share a slot, and they need not.
    for (let i = 0; i < keys.length; i += 500) await Promise.all(keys.slice(i, i + 500).map((key) => this.client.del(key)));
    return keys.length;
  }

  onApplicationShutdown(): void {
    this.client.disconnect();
  }
}

import { hostOf, ServiceUnreachableError } from '@bulkhead/database';
import { createRedis, RedisTarget } from './redis-client';

/** Fails fast with one actionable sentence when Redis is down, instead of ioredis retrying forever. */
export async function assertRedisReachable(target: RedisTarget): Promise<void> {
  const client = createRedis(target, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000, connectionName: 'bulkhead-startup-check' });
  client.on('error', () => undefined);
  const where = target.redisClusterNodes ? target.redisClusterNodes.map((node) => `${node.host}:${node.port}`).join(',') : hostOf(target.REDIS_URL);
  try {
    await client.connect();
    await client.ping();
  } catch {
    throw new ServiceUnreachableError('Redis', where);
  } finally {
    client.disconnect();
  }
}

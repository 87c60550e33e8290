import Redis from 'ioredis';
import { hostOf, ServiceUnreachableError } from './service-unavailable.error';

/** Fails fast with one actionable sentence when Redis is down, instead of ioredis retrying forever. */
export async function assertRedisReachable(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch {
    throw new ServiceUnreachableError('Redis', hostOf(url));
  } finally {
    client.disconnect();
  }
}

import { randomBytes } from 'node:crypto';
import { loadConfig } from '@bulkhead/config';
import { createRedis, keyspaceNodes, type RedisClient } from '@bulkhead/redis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The suite's Redis: a single one, or the cluster REDIS_CLUSTER_NODES names. */
export function testRedis(): RedisClient {
  return createRedis(loadConfig(), { maxRetriesPerRequest: null, connectionName: 'fair-queue-test' });
}

/** Unique per test so parallel suites on the shared Redis never see each other's keys. */
export function uniqueName(label: string): string {
  return `t-${label}-${randomBytes(4).toString('hex')}`;
}

export async function keysMatching(redis: RedisClient, pattern: string): Promise<string[]> {
  const out: string[] = [];
  for (const node of await keyspaceNodes(redis)) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      out.push(...found);
    } while (cursor !== '0');
  }
  return out;
}

/** One key per command: on a cluster the keys may live in different slots. */
export async function deleteMatching(redis: RedisClient, pattern: string): Promise<void> {
  for (const key of await keysMatching(redis, pattern)) await redis.unlink(key);
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000, stepMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

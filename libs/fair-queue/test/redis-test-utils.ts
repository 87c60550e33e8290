import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function testRedis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: null });
}

/** Unique per test so parallel suites on the shared Redis never see each other's keys. */
export function uniqueName(label: string): string {
  return `t-${label}-${randomBytes(4).toString('hex')}`;
}

export async function keysMatching(redis: Redis, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    out.push(...found);
  } while (cursor !== '0');
  return out;
}

export async function deleteMatching(redis: Redis, pattern: string): Promise<void> {
  const keys = await keysMatching(redis, pattern);
  if (keys.length > 0) await redis.unlink(...keys);
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000, stepMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

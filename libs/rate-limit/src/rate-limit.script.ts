import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisClient } from '@bulkhead/redis';

/** The ioredis command name; prefixed so it cannot clash with commands other code defines. */
export const TAKE_COMMAND = 'bulkheadRateLimitTake';
const SOURCE = join(__dirname, 'scripts', 'take.lua');

export type TakeReply = [allowed: 0 | 1, remaining: number, resetMs: number, retryAfterMs: number, granted: number, tatUs: number];
/** `wanted` 1 decides one request; more asks for a lease; 0 only gives `refundUs` back, no more than lies beyond now before `refundTatUs` (see scripts/take.lua). */
export type TakeCall = (
  limiterKey: string,
  countsKey: string,
  intervalUs: number,
  capacityUs: number,
  routeClass: string,
  retentionSeconds: number,
  wanted: number,
  refundUs: number,
  refundTatUs: number,
) => Promise<TakeReply>;

/** Binds the script to a client: ioredis sends EVALSHA and loads the script itself on NOSCRIPT. */
export function bindTakeScript(redis: RedisClient): TakeCall {
  const target = redis as unknown as Record<string, TakeCall | undefined>;
  if (typeof target[TAKE_COMMAND] !== 'function') {
    let lua: string;
    try {
      lua = readFileSync(SOURCE, 'utf8');
    } catch (error) {
      throw new Error(`rate-limit: cannot read ${SOURCE}; a build must copy libs/rate-limit/src/scripts next to the compiled files.`, { cause: error });
    }
    redis.defineCommand(TAKE_COMMAND, { numberOfKeys: 2, lua });
  }
  return (target[TAKE_COMMAND] as TakeCall).bind(redis);
}

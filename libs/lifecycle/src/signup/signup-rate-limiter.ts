import { BulkheadConfig } from '@bulkhead/config';
import { parsePgUrl } from '@bulkhead/database';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { SignupRateLimitedProblem } from '../lifecycle.errors';

/**
 * Signups per client address per minute (SIGNUP_RATE_LIMIT_PER_MINUTE), shared by every API
 * process through Redis: one INCR and, on a minute's first signup, an EXPIRE. Public route, no
 * tenant: the address is the only key there is. Redis unreachable: the signup is refused (503),
 * never let through unlimited.
 */
@Injectable()
export class SignupRateLimiter implements OnApplicationShutdown {
  private readonly client: Redis;
  private readonly prefix: string;

  constructor(private readonly config: BulkheadConfig) {
    this.client = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: 1000, connectionName: 'bulkhead-signup-limit' });
    this.client.on('error', () => undefined);
    this.prefix = `bulkhead:${parsePgUrl(config.DATABASE_URL).database}:signup`;
  }

  async take(address: string): Promise<void> {
    const minute = Math.floor(Date.now() / 60_000);
    const key = `${this.prefix}:${address}:${minute}`;
    const [[, count]] = (await this.client.multi().incr(key).expire(key, 120).exec()) as Array<[Error | null, number]>;
    if (count > this.config.SIGNUP_RATE_LIMIT_PER_MINUTE) throw new SignupRateLimitedProblem(60 - Math.floor((Date.now() / 1000) % 60));
  }

  onApplicationShutdown(): void {
    this.client.disconnect();
  }
}

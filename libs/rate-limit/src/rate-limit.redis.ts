import { BulkheadConfig } from '@bulkhead/config';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createRedis, RedisClient } from '@bulkhead/redis';

/** How long start-up waits for the limiter's connection before serving with in-process limits. */
const CONNECT_WAIT_MS = 2000;

/**
 * The limiter's own connection. It never queues: while it is not connected a command fails at
 * once (`enableOfflineQueue: false`), and one slower than RATE_LIMIT_REDIS_TIMEOUT_MS fails too,
 * so a request is never held up by an unreachable Redis; the in-process limiter decides instead.
 * ioredis keeps reconnecting in the background.
 */
@Injectable()
export class RateLimitRedis implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly client: RedisClient;
  /**
   * Hands counts held in process over (leased admissions, outage counts), and serves operators'
   * reads. Its own connection, with a timeout far above a decision's: a MULTI applied but answered
   * after the timeout would be retried, and its counts added twice; an operator's read may wait.
   */
  readonly counts: RedisClient;

  constructor(config: BulkheadConfig) {
    // Never queued, never retried: a command fails at once while disconnected, and after its timeout.
    const connection = (commandTimeout: number, connectionName: string): RedisClient =>
      createRedis(config, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout,
        connectTimeout: 2000,
        // Back within a second of Redis returning, not after ioredis's default growing delays.
        retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
        connectionName,
      });
    this.client = connection(config.RATE_LIMIT_REDIS_TIMEOUT_MS, 'bulkhead-rate-limit');
    this.counts = connection(Math.max(5000, 20 * config.RATE_LIMIT_REDIS_TIMEOUT_MS), 'bulkhead-rate-limit-counts');
    // Transitions are logged by the limiter; without a listener ioredis prints every failed reconnect.
    this.client.on('error', () => undefined);
    this.counts.on('error', () => undefined);
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /**
   * An instance that served its first requests before this connection was up would decide them
   * alone and leave them out of the shared counts, so one tenant could pass its limit once per
   * starting instance. Wait for the connection (bounded: a Redis that is down does not stop the
   * API from starting; the in-process limiter covers it as in any outage).
   */
  async onApplicationBootstrap(): Promise<void> {
    if (this.ready) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, CONNECT_WAIT_MS);
      this.client.once('ready', done);
    });
  }

  onApplicationShutdown(): void {
    this.client.disconnect();
    this.counts.disconnect();
  }
}

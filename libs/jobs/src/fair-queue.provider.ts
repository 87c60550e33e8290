import { BulkheadConfig } from '@bulkhead/config';
import { FairQueue } from '@bulkhead/fair-queue';
import { Inject, Injectable, OnApplicationShutdown, Provider } from '@nestjs/common';
import { createRedis, RedisClient } from '@bulkhead/redis';
import { FAIR_QUEUE, JOBS_BULL_QUEUE, JOBS_REDIS } from './jobs.constants';

/**
 * The worker's connection waits out Redis restarts (BullMQ and the dispatcher's blocking reads
 * need maxRetriesPerRequest: null); a producer's fails fast, so a request answers 503 instead of
 * hanging while Redis is down.
 */
export function jobsRedisProvider(worker: boolean): Provider {
  return {
    provide: JOBS_REDIS,
    inject: [BulkheadConfig],
    useFactory: (config: BulkheadConfig) =>
      worker
        ? createRedis(config, { maxRetriesPerRequest: null, connectionName: 'bulkhead-jobs-worker' })
        : createRedis(config, { maxRetriesPerRequest: 1, commandTimeout: 5000, connectionName: 'bulkhead-jobs-producer' }),
  };
}

export const fairQueueProvider: Provider = {
  provide: FAIR_QUEUE,
  inject: [JOBS_REDIS, BulkheadConfig],
  useFactory: (redis: RedisClient, config: BulkheadConfig) =>
    new FairQueue({
      name: config.JOBS_QUEUE_NAME,
      bullQueueName: JOBS_BULL_QUEUE,
      connection: redis,
      defaultPolicy: { weight: 1, maxConcurrency: config.JOBS_TENANT_MAX_CONCURRENCY, maxBacklog: config.JOBS_TENANT_MAX_BACKLOG },
      // Attempts count real failures only: a job that meets an outage is parked without spending one.
      jobOptions: {
        attempts: config.JOBS_ATTEMPTS,
        backoff: { type: 'exponential', delay: config.JOBS_RETRY_BACKOFF_MS },
        removeOnComplete: 1000,
        removeOnFail: 5000,
      },
    }),
};

@Injectable()
export class JobsConnectionLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(FAIR_QUEUE) private readonly queue: FairQueue,
    @Inject(JOBS_REDIS) private readonly redis: RedisClient,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

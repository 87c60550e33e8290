import { FairQueue } from '@bulkhead/fair-queue';
import { loadConfig } from '@bulkhead/config';
import { createRedis, type RedisClient } from '@bulkhead/redis';
import { Queue } from 'bullmq';
import { basename } from 'node:path';

/**
 * Import this first in a spec whose jobs must stay its own: another spec's worker, running at
 * the same time in the other jest worker, would otherwise take them (or obliterate the queue
 * under them). @bulkhead/jobs reads JOBS_QUEUE_NAME when it is imported, so this has to run
 * before anything imports it; each spec file gets a fresh module registry and a fresh env.
 */
const spec = basename(expect.getState().testPath ?? 'spec').replace(/\.spec\.ts$/, '');
process.env.JOBS_QUEUE_NAME = `${process.env.JOBS_QUEUE_NAME ?? 'jobs'}-${spec}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);

/** Drops every key of this spec's queue: before the run (leftovers of an interrupted one) and after it. */
export async function clearPrivateJobQueue(): Promise<void> {
  const redis = createRedis(loadConfig(), { maxRetriesPerRequest: null, connectionName: 'private-job-queue' });
  try {
    const queue = new FairQueue({ name: process.env.JOBS_QUEUE_NAME as string, connection: redis });
    await queue.obliterate();
    await queue.close();
  } finally {
    await redis.quit();
  }
}

/** The spec's own queue as a test inspects it: a Redis client, the fair queue over it and BullMQ's queue under that. */
export interface PrivateJobQueue {
  readonly redis: RedisClient;
  readonly fq: FairQueue;
  readonly bull: Queue;
  /** Closes the three, then drops every key of the queue. */
  close(): Promise<void>;
}

/** Opens this spec's queue (after dropping what an interrupted run left of it). */
export async function openPrivateJobQueue(connectionName: string): Promise<PrivateJobQueue> {
  await clearPrivateJobQueue();
  const config = loadConfig();
  const redis = createRedis(config, { maxRetriesPerRequest: null, connectionName });
  // Not imported above: @bulkhead/jobs must first be loaded after this module has named the queue.
  const { jobsQueueKeys } = await import('@bulkhead/jobs');
  const keys = jobsQueueKeys(config);
  const fq = new FairQueue({ name: config.JOBS_QUEUE_NAME, bullQueueName: keys.queueName, connection: redis });
  const bull = new Queue(keys.queueName, { connection: redis, prefix: keys.bullPrefix });
  return {
    redis,
    fq,
    bull,
    close: async () => {
      await bull.close();
      await fq.close();
      await clearPrivateJobQueue();
      await redis.quit();
    },
  };
}

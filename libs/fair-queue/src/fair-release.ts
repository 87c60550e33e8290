import { Worker, type Job, type Processor, type WorkerOptions } from 'bullmq';
import type { FairJobData } from './fair-job';
import type { FairQueue } from './fair-queue';

/** Finished for good: completed, or failed with no retry left (BullMQ sets finishedOn then). */
export function isFinallyFailed(job: Pick<Job, 'finishedOn' | 'attemptsMade' | 'opts'>): boolean {
  return job.finishedOn != null || job.attemptsMade >= (job.opts.attempts ?? 1);
}

/**
 * Batches slot releases: every job finishing in the same tick costs one Lua call together.
 * A release lost to a crash is not a leak: the dispatcher's reconciler finds the job finished.
 */
export class FairReleaser {
  private pending: string[] = [];
  private scheduled = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly queue: FairQueue,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  add(job: Pick<Job<FairJobData>, 'id' | 'data'>): void {
    if (job.id === undefined || !job.data?.tenant) return;
    this.pending.push(job.data.tenant, job.id);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /** Resolves once every release added so far has reached Redis (or failed). */
  flush(): Promise<void> {
    this.scheduled = false;
    this.inFlight = this.inFlight.then(() => this.send());
    return this.inFlight;
  }

  /**
   * Takes what is pending when the previous call has returned, not when the flush was asked
   * for: releases that finish during a round trip ride together in the next call, so a busy
   * worker makes a few large release calls instead of one per tick.
   */
  private async send(): Promise<void> {
    const pairs = this.pending;
    this.pending = [];
    if (pairs.length === 0) return;
    try {
      await this.queue.scripts.release(pairs);
    } catch (error) {
      this.onError(error);
    }
  }
}

/**
 * Hooks a BullMQ worker of the fair queue so each job's slot is freed when it completes or
 * fails for the last time. Jobs that will be retried (including stalled ones) keep their slot.
 */
export function attachFairRelease(
  worker: Worker<FairJobData>,
  queue: FairQueue,
  onError?: (error: unknown) => void,
): FairReleaser {
  const releaser = new FairReleaser(queue, onError);
  worker.on('completed', (job) => releaser.add(job));
  worker.on('failed', (job) => {
    if (job && isFinallyFailed(job)) releaser.add(job);
  });
  return releaser;
}

export interface FairWorker<T, R> {
  worker: Worker<FairJobData<T>, R>;
  releaser: FairReleaser;
  /** Closes the worker (waiting for running jobs), then flushes pending releases. */
  close(force?: boolean): Promise<void>;
}

export type FairWorkerOptions = Omit<WorkerOptions, 'prefix' | 'connection'> & {
  /** Defaults to the fair queue's connection; BullMQ wants `maxRetriesPerRequest: null`. */
  connection?: WorkerOptions['connection'];
  onReleaseError?: (error: unknown) => void;
};

/** A BullMQ Worker bound to the fair queue's BullMQ queue, with slot release attached. */
export function createFairWorker<T = unknown, R = unknown>(
  queue: FairQueue,
  processor: Processor<FairJobData<T>, R>,
  options: FairWorkerOptions = {},
): FairWorker<T, R> {
  const { onReleaseError, connection, ...workerOptions } = options;
  const worker = new Worker<FairJobData<T>, R>(queue.keys.queueName, processor, {
    ...workerOptions,
    connection: connection ?? queue.connection,
    prefix: queue.keys.bullPrefix,
  });
  const releaser = attachFairRelease(worker as unknown as Worker<FairJobData>, queue, onReleaseError);
  return {
    worker,
    releaser,
    async close(force = false) {
      await worker.close(force);
      await releaser.flush();
    },
  };
}

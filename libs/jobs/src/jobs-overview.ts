import { FairQueue, FairQueueStats } from '@bulkhead/fair-queue';
import { Inject, Injectable } from '@nestjs/common';
import { FAIR_QUEUE } from './jobs.constants';

/** Jobs by BullMQ state, and the fair queue's backlog, for metrics (read at scrape time). */
export interface JobsCounts {
  readonly states: Readonly<Record<string, number>>;
  readonly fair: FairQueueStats;
}

/** One BullMQ queue's jobs by state, as BullMQ counts them (what bull-board would show). */
export interface QueueCounts {
  readonly name: string;
  readonly states: Readonly<Record<string, number>>;
}

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused', 'completed', 'failed'] as const;
const METRIC_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'] as const;

@Injectable()
export class JobsOverview {
  constructor(@Inject(FAIR_QUEUE) private readonly queue: FairQueue) {}

  async counts(): Promise<JobsCounts> {
    const [states, fair] = await Promise.all([this.queue.queue.getJobCounts(...METRIC_STATES), this.queue.stats()]);
    return { states, fair };
  }

  /**
   * Every BullMQ queue of the jobs lib (one: the fair queue's), by raw state. `completed` and
   * `failed` are what the queue keeps (`removeOnComplete` 1,000, `removeOnFail` 5,000), not totals.
   */
  async queues(): Promise<QueueCounts[]> {
    return [{ name: this.queue.name, states: await this.queue.queue.getJobCounts(...STATES) }];
  }
}

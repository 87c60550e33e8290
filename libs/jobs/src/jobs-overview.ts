import { FairQueue, FairQueueStats } from '@bulkhead/fair-queue';
import { Inject, Injectable } from '@nestjs/common';
import { FAIR_QUEUE } from './jobs.constants';

/** Jobs by BullMQ state, and the fair queue's backlog, for metrics (read at scrape time). */
export interface JobsCounts {
  readonly states: Readonly<Record<string, number>>;
  readonly fair: FairQueueStats;
}

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'] as const;

@Injectable()
export class JobsOverview {
  constructor(@Inject(FAIR_QUEUE) private readonly queue: FairQueue) {}

  async counts(): Promise<JobsCounts> {
    const [states, fair] = await Promise.all([this.queue.queue.getJobCounts(...STATES), this.queue.stats()]);
    return { states, fair };
  }
}

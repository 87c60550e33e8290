import { BulkheadConfig } from '@bulkhead/config';
import { FairDispatcher, FairQueue } from '@bulkhead/fair-queue';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { FAIR_QUEUE } from './jobs.constants';

/**
 * Moves jobs from the per-tenant buffers into BullMQ in weighted fair order. Every worker process
 * runs one; they coordinate through Redis, so more workers never break the order or the caps.
 */
@Injectable()
export class JobDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('JobDispatcher');
  private readonly dispatcher: FairDispatcher;

  constructor(@Inject(FAIR_QUEUE) queue: FairQueue, config: BulkheadConfig) {
    this.dispatcher = new FairDispatcher(queue, {
      // Cluster-wide: jobs admitted into BullMQ and unfinished, across every worker. Kept short so
      // a newly active tenant overtakes a flood; size it to a few times the total concurrency.
      window: config.JOBS_ADMISSION_WINDOW,
      batchSize: 100,
      onError: (error) => this.logger.error({ err: error }, 'dispatch failed'),
    });
  }

  onApplicationBootstrap(): void {
    this.dispatcher.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.dispatcher.stop();
  }
}

import { BulkheadConfig } from '@bulkhead/config';
import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { fairQueueProvider, JobsConnectionLifecycle, jobsRedisProvider } from './fair-queue.provider';
import { HeldTenantsRecheck } from './held-tenants.recheck';
import { JobDispatcher } from './job-dispatcher';
import { JOBS_BULL_QUEUE, JOBS_REDIS, jobsQueueKeys } from './jobs.constants';
import { JobsOverview } from './jobs-overview';
import { RedisClient } from '@bulkhead/redis';
import { JobsAdminController } from './jobs.admin.controller';
import { TenantJobProcessor } from './tenant-job.processor';
import { TenantJobRecords } from './tenant-job-records';
import { TenantJobs } from './tenant-jobs';

export interface JobsOptions {
  /** Run the dispatcher and the processor (the worker process). */
  worker: boolean;
  /** Serve the operator routes (the API process). */
  http: boolean;
}

/** The jobs' Redis client, shared by the fair queue and (in the worker) BullMQ, which duplicates it for its blocking reads. */
@Module({})
class JobsRedisModule {
  static forRoot(worker: boolean): DynamicModule {
    return { module: JobsRedisModule, providers: [jobsRedisProvider(worker)], exports: [JOBS_REDIS] };
  }
}

@Module({})
export class JobsModule {
  static forRoot(options: JobsOptions): DynamicModule {
    const redis = JobsRedisModule.forRoot(options.worker);
    return {
      module: JobsModule,
      global: true,
      imports: options.worker
        ? [
            redis,
            DiscoveryModule,
            // An ioredis instance, not options: BullMQ opens a cluster client only when handed one. It never closes a shared
            // client; JobsConnectionLifecycle does, after BullMQ's workers have closed.
            BullModule.forRootAsync({
              imports: [redis],
              inject: [JOBS_REDIS],
              useFactory: (connection: RedisClient) => ({ connection }),
            }),
            BullModule.registerQueueAsync({
              name: JOBS_BULL_QUEUE,
              inject: [BulkheadConfig],
              useFactory: (config: BulkheadConfig) => ({ prefix: jobsQueueKeys(config).bullPrefix }),
            }),
          ]
        : [redis],
      controllers: options.http ? [JobsAdminController] : [],
      providers: [fairQueueProvider, JobsConnectionLifecycle, TenantJobs, JobsOverview, TenantJobRecords, ...(options.worker ? [TenantJobProcessor, JobDispatcher, HeldTenantsRecheck] : [])],
      exports: [TenantJobs, JobsOverview, TenantJobRecords],
    };
  }
}

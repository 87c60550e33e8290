import { BulkheadConfig } from '@bulkhead/config';
import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { fairQueueProvider, JobsConnectionLifecycle, jobsRedisProvider } from './fair-queue.provider';
import { JobDispatcher } from './job-dispatcher';
import { JOBS_BULL_QUEUE, jobsQueueKeys } from './jobs.constants';
import { JobsOverview } from './jobs-overview';
import { JobsAdminController } from './jobs.admin.controller';
import { TenantJobProcessor } from './tenant-job.processor';
import { TenantJobs } from './tenant-jobs';

export interface JobsOptions {
  /** Run the dispatcher and the processor (the worker process). */
  worker: boolean;
  /** Serve the operator routes (the API process). */
  http: boolean;
}

function bullConnection(url: string) {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
  };
}

@Module({})
export class JobsModule {
  static forRoot(options: JobsOptions): DynamicModule {
    return {
      module: JobsModule,
      global: true,
      imports: options.worker
        ? [
            DiscoveryModule,
            BullModule.forRootAsync({
              inject: [BulkheadConfig],
              useFactory: (config: BulkheadConfig) => ({ connection: bullConnection(config.REDIS_URL) }),
            }),
            BullModule.registerQueueAsync({
              name: JOBS_BULL_QUEUE,
              inject: [BulkheadConfig],
              useFactory: (config: BulkheadConfig) => ({ prefix: jobsQueueKeys(config).bullPrefix }),
            }),
          ]
        : [],
      controllers: options.http ? [JobsAdminController] : [],
      providers: [jobsRedisProvider(options.worker), fairQueueProvider, JobsConnectionLifecycle, TenantJobs, JobsOverview, ...(options.worker ? [TenantJobProcessor, JobDispatcher] : [])],
      exports: [TenantJobs, JobsOverview],
    };
  }
}

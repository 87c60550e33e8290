import { BulkheadConfig } from '@bulkhead/config';
import { TenantJobs } from '@bulkhead/jobs';
import { Injectable, Logger, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { RECONCILE_USAGE_JOB } from './reconcile-usage.handler';

function periodOf(at: Date): string {
  return `${at.getUTCFullYear()}-${String(at.getUTCMonth() + 1).padStart(2, '0')}`;
}

/**
 * Enqueues the reconciliation of the current and the previous billing period every
 * METERING_RECONCILE_INTERVAL_MS. Every worker process runs this timer; the job id names the
 * interval, so the fair queue keeps one job per interval however many workers enqueue it.
 */
@Injectable()
export class ReconciliationSchedule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ReconciliationSchedule');
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly jobs: TenantJobs,
    private readonly config: BulkheadConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.METERING_RECONCILE_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async tick(now = new Date()): Promise<void> {
    const slot = Math.floor(now.getTime() / this.config.METERING_RECONCILE_INTERVAL_MS);
    const previous = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
    try {
      await this.jobs.enqueuePlatform(RECONCILE_USAGE_JOB, { periods: [periodOf(previous), periodOf(now)] }, { jobId: `metering-reconcile-${slot}`, actor: 'schedule' });
    } catch (error) {
      this.logger.warn({ err: error }, 'could not enqueue the usage reconciliation; the next interval will');
    }
  }
}

/** Imported by the worker app only: the API and the CLI do not schedule. */
@Module({ providers: [ReconciliationSchedule] })
export class ReconciliationScheduleModule {}

import { DataSourceRouter, TenantRegistry } from '@bulkhead/control-plane';
import { JobRun, JobRunObserver, JobRunObserverProvider } from '@bulkhead/jobs';
import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { minuteOf, Usage } from './usage-measures';
import { UsageStore } from './usage.store';

const FLUSH_MS = 1000;
/** Batches kept while Redis is away, at most: past that the oldest minute is dropped (and logged). */
const MAX_PENDING_MINUTES = 5;

/**
 * Counts each tenant's usage in this process (requests, time holding a database connection, job
 * time, rows written) and adds it to Redis once a second, per minute, in one pipeline: the request
 * path pays a map update, never a round trip. The counts are for fairness and alerts, not billing
 * (that is `@bulkhead/metering`): a process killed loses at most its last second. Job time comes
 * from the worker's job-run observers (`@JobRunObserverProvider()`): every run that reached its
 * handler, succeeded or failed; a run parked for an outage is not a run and is not counted.
 */
@Injectable()
@JobRunObserverProvider()
export class UsageRecorder implements OnModuleInit, OnApplicationShutdown, JobRunObserver {
  private readonly logger = new Logger('UsageRecorder');
  private readonly pending = new Map<number, Map<string, Partial<Usage>>>();
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;

  constructor(
    private readonly store: UsageStore,
    private readonly router: DataSourceRouter,
    private readonly registry: TenantRegistry,
  ) {}

  onModuleInit(): void {
    this.router.observeConnectionHolds((tenantId, ms) => this.add(tenantId, 'db_ms', ms));
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  request(tenantId: string): void {
    this.add(tenantId, 'requests', 1);
  }

  /** A tenant job's handler time; platform jobs belong to no tenant. A map update: never throws. */
  observeJobRun(run: JobRun): void {
    if (run.tenantId) this.add(run.tenantId, 'job_ms', run.durationMs);
  }

  rowsWritten(tenantId: string, rows: number): void {
    if (rows > 0) this.add(tenantId, 'rows_written', rows);
  }

  private add(tenantId: string, measure: keyof Usage, amount: number): void {
    const minute = minuteOf(Date.now());
    let batch = this.pending.get(minute);
    if (!batch) {
      batch = new Map();
      this.pending.set(minute, batch);
    }
    let usage = batch.get(tenantId);
    if (!usage) {
      usage = {};
      batch.set(tenantId, usage);
    }
    usage[measure] = (usage[measure] ?? 0) + amount;
  }

  /** Sends what is pending; a failed minute stays for the next flush. */
  async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (const [minute, batch] of [...this.pending]) {
        this.pending.delete(minute);
        try {
          await this.store.add(minute, await this.activeOnly(batch));
        } catch (error) {
          this.pending.set(minute, batch);
          if (this.pending.size > MAX_PENDING_MINUTES) {
            const oldest = Math.min(...this.pending.keys());
            this.pending.delete(oldest);
            this.logger.warn({ err: error, minute: oldest }, 'usage: Redis unreachable, dropped the oldest minute of usage counts');
          }
          return;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Usage of active tenants only. A fenced or erased tenant's units of work are the platform's
   * (its export, erasure, audit shredding, lifecycle entries), and counting them would put the
   * tenant back into the shared usage hashes right after offboarding erased it from them.
   */
  private async activeOnly(batch: Map<string, Partial<Usage>>): Promise<Map<string, Partial<Usage>>> {
    for (const tenantId of [...batch.keys()]) {
      if ((await this.registry.findCachedById(tenantId))?.status !== 'active') batch.delete(tenantId);
    }
    return batch;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}

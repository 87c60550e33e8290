import { BulkheadConfig } from '@bulkhead/config';
import { BacklogFullError, FairQueue } from '@bulkhead/fair-queue';
import { currentTenant } from '@bulkhead/tenancy';
import { currentTraceCarrier } from '@bulkhead/tracing';
import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { FAIR_QUEUE, PLATFORM_KEY } from './jobs.constants';
import { JobBacklogFullProblem, JobsUnavailableProblem } from './jobs.errors';
import { JobEnvelope } from './job-envelope';

export interface EnqueuedJob {
  jobId: string;
  duplicate: boolean;
}

/**
 * The producer. The tenant, the acting user and the request id come from the current context,
 * never from the caller; a tenant's tier weight is applied as a default its override can beat.
 */
@Injectable()
export class TenantJobs {
  /** Tenants whose policy defaults this process has already written, so enqueue stays one call. */
  private readonly applied = new LRUCache<string, true>({ max: 10_000, ttl: 60_000 });

  constructor(
    @Inject(FAIR_QUEUE) private readonly queue: FairQueue,
    private readonly config: BulkheadConfig,
  ) {}

  /** A job for the current tenant. `jobId` makes it idempotent (same id, one job). */
  async enqueue<P>(name: string, payload: P, options: { jobId?: string } = {}): Promise<EnqueuedJob> {
    const tenant = currentTenant();
    if (!this.applied.has(tenant.tenantId)) {
      await this.queue.setPolicyDefaults(tenant.tenantId, { weight: this.config.jobsTierWeights[tenant.tier] }).catch(() => {
        throw new JobsUnavailableProblem();
      });
      this.applied.set(tenant.tenantId, true);
    }
    const trace = currentTraceCarrier();
    const envelope: JobEnvelope<P> = { v: 1, tenantId: tenant.tenantId, userId: tenant.userId, requestId: tenant.requestId, ...(trace.traceparent ? { trace } : {}), payload };
    return this.add(tenant.tenantId, name, envelope, options.jobId);
  }

  /** Work that belongs to no tenant, declared as such. */
  async enqueuePlatform<P>(name: string, payload: P, options: { jobId?: string; actor: string }): Promise<EnqueuedJob> {
    const envelope: JobEnvelope<P> = { v: 1, tenantId: null, userId: options.actor, payload };
    return this.add(PLATFORM_KEY, name, envelope, options.jobId);
  }

  private async add(key: string, name: string, envelope: JobEnvelope, jobId: string | undefined): Promise<EnqueuedJob> {
    try {
      const result = await this.queue.enqueue(key, { name, data: envelope, jobId });
      return { jobId: result.jobId, duplicate: result.status === 'duplicate' };
    } catch (error) {
      if (error instanceof BacklogFullError) throw new JobBacklogFullProblem();
      if (error instanceof Error && !('status' in error)) throw new JobsUnavailableProblem();
      throw error;
    }
  }
}

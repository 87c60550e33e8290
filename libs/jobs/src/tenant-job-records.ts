import { FairQueue } from '@bulkhead/fair-queue';
import { Inject, Injectable } from '@nestjs/common';
import { FAIR_QUEUE } from './jobs.constants';

/**
 * What the jobs keep of one tenant in the fair queue (buffered and in-flight jobs, policy, pause
 * or hold, dedupe ids) and in BullMQ (its jobs in any state), for offboarding's erasure. Erased in one atomic step that also gives
 * the tenant's in-flight slots back to the admission window: deleting its keys by name shrank
 * the window for good and left the tenant in the queue's shared keys.
 */
@Injectable()
export class TenantJobRecords {
  readonly store = 'redis:fair-queue';

  constructor(@Inject(FAIR_QUEUE) private readonly queue: FairQueue) {}

  /** Whether a key is the scheduler's or its BullMQ queue's (the tenant's records among them are counted here). */
  ownsKey(key: string): boolean {
    return key.startsWith(this.queue.keys.tag);
  }

  /** The scheduler's records of the tenant and its jobs in BullMQ. */
  async count(tenantId: string): Promise<number> {
    return (await this.queue.tenantRecords(tenantId)) + (await this.queue.bullJobIds(tenantId)).length;
  }

  /**
   * The scheduler's records first (its slots back even if BullMQ's removal fails), then its jobs in
   * BullMQ: a parked job of a suspended tenant would otherwise run after the erasure, be refused,
   * and stay in the failed set with its payload. A job running meanwhile is removed once finished,
   * by the verification's second pass, which fails (and is retried) until then.
   */
  async erase(tenantId: string): Promise<number> {
    return (await this.queue.forgetTenant(tenantId)) + (await this.queue.removeBullJobs(tenantId));
  }
}

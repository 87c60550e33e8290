import { FairQueue } from '@bulkhead/fair-queue';
import { Inject, Injectable } from '@nestjs/common';
import { FAIR_QUEUE } from './jobs.constants';

/**
 * What the jobs keep of one tenant in the fair queue (buffered and in-flight jobs, policy, pause
 * or hold, dedupe ids) and in BullMQ (its jobs in any state, any key left of one, and the entries
 * of BullMQ's event stream naming them), for offboarding's erasure. Erased in one atomic step that also gives
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

  /** The scheduler's records of the tenant, its jobs in BullMQ and the events naming them. */
  async count(tenantId: string): Promise<number> {
    return (await this.queue.tenantRecords(tenantId)) + (await this.queue.bullJobIds(tenantId)).length + (await this.queue.bullEventIds(tenantId)).length;
  }

  /**
   * The scheduler's records first (its slots back even if BullMQ's removal fails), then its jobs in
   * BullMQ: a parked job of a suspended tenant would otherwise run after the erasure, be refused,
   * and stay in the failed set with its payload. A job running meanwhile is removed once finished,
   * by the verification's second pass, which fails (and is retried) until then. The event stream
   * last: BullMQ's removal itself adds a `removed` event naming each job, and the stream kept the
   * tenant's job ids until BullMQ trimmed them, which a quiet queue never did.
   */
  async erase(tenantId: string): Promise<number> {
    const scheduler = await this.queue.forgetTenant(tenantId);
    const jobs = await this.queue.removeBullJobs(tenantId);
    return scheduler + jobs + (await this.queue.removeBullEvents(tenantId));
  }
}

import { FairQueue } from '@bulkhead/fair-queue';
import { Inject, Injectable } from '@nestjs/common';
import { FAIR_QUEUE } from './jobs.constants';

/**
 * What the jobs keep of one tenant in the fair queue (buffered and in-flight jobs, policy, pause
 * or hold, dedupe fields), for offboarding's erasure. Erased in one atomic step that also gives
 * the tenant's in-flight slots back to the admission window: deleting its keys by name shrank
 * the window for good and left the tenant in the queue's shared keys.
 */
@Injectable()
export class TenantJobRecords {
  readonly store = 'redis:fair-queue';

  constructor(@Inject(FAIR_QUEUE) private readonly queue: FairQueue) {}

  count(tenantId: string): Promise<number> {
    return this.queue.tenantRecords(tenantId);
  }

  erase(tenantId: string): Promise<number> {
    return this.queue.forgetTenant(tenantId);
  }
}

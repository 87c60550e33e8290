import { TenantJobRecords } from '@bulkhead/jobs';
import { Injectable } from '@nestjs/common';
import { TenantRecordsEraser, TenantRecordsEraserProvider } from './tenant-records-eraser';

/**
 * The tenant's jobs state in the fair queue, erased through the jobs' own operation (here, not in
 * the jobs lib: the jobs cannot depend on the lifecycle, which enqueues through them). Its keys
 * carry the tenant id, but deleting them by name left the tenant in the queue's shared keys and
 * its in-flight slots counted for ever; the erasers run before that key scan for this reason.
 */
@Injectable()
@TenantRecordsEraserProvider()
export class TenantJobRecordsEraser implements TenantRecordsEraser {
  constructor(private readonly records: TenantJobRecords) {}

  get store(): string {
    return this.records.store;
  }

  count(tenantId: string): Promise<number> {
    return this.records.count(tenantId);
  }

  erase(tenantId: string): Promise<number> {
    return this.records.erase(tenantId);
  }

  ownsKey(key: string): boolean {
    return this.records.ownsKey(key);
  }
}

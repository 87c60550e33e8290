import { BulkheadConfig } from '@bulkhead/config';
import { parsePgUrl } from '@bulkhead/database';
import { Injectable } from '@nestjs/common';
import { UsageMeasure } from './usage-measures';

/** Usage hashes live this long: the detector reads the last complete minute, the gauges the same. */
export const USAGE_RETENTION_SECONDS = 2 * 3600;

/**
 * Redis keys of the usage counts and the detector, named after the control-plane database (as the
 * change feeds are), so deployments sharing a Redis never mix. One hash per minute and measure,
 * field = tenant id; a minute's hashes share the hash tag `{nn:<db>:<minute>}` (one Redis Cluster
 * slot, read together), the detector's state shares `{nn:<db>:detector}`. Tenant ids go only in
 * fields, never in key names.
 */
@Injectable()
export class NoisyKeys {
  private readonly db: string;
  readonly streaks: string;
  readonly current: string;

  constructor(config: BulkheadConfig) {
    this.db = parsePgUrl(config.DATABASE_URL).database;
    this.streaks = `nn:{nn:${this.db}:detector}:streaks`;
    this.current = `nn:{nn:${this.db}:detector}:current`;
  }

  usage(minute: number, measure: UsageMeasure): string {
    return `nn:{nn:${this.db}:${minute}}:${measure}`;
  }

  lock(minute: number): string {
    return `nn:{nn:${this.db}:detector}:lock:${minute}`;
  }
}

import { AuditTrail } from '@bulkhead/audit';
import { BulkheadConfig } from '@bulkhead/config';
import { Injectable, Logger, Optional } from '@nestjs/common';
import { detectNoisy, NoisyFinding } from './noisy-detection';
import { NoisyHistory } from './noisy-history';
import { NoisyRedis } from './noisy.redis';
import { NoisyThrottle } from './noisy-throttle';
import { NoisyKeys } from './usage.keys';
import { UsageStore } from './usage.store';

/** A tenant flagged noisy, as kept in Redis and shown to operators. */
export interface CurrentNoisyTenant {
  readonly tenantId: string;
  /** The first minute (epoch minutes) of the streak that flagged it. */
  readonly since: number;
  /** The latest minute it was still noisy in. */
  readonly lastMinute: number;
  readonly findings: readonly NoisyFinding[];
}

export interface DetectionOutcome {
  readonly minute: number;
  /** False when another instance had already evaluated this minute. */
  readonly evaluated: boolean;
  readonly noisy: readonly string[];
  readonly flagged: readonly string[];
  readonly cleared: readonly string[];
}

const WEBHOOK_TIMEOUT_MS = 5000;

/**
 * Compares every tenant's usage in one complete minute with the median tenant's
 * (`detectNoisy`), across all instances (the counts are summed in Redis). A tenant noisy for
 * NOISY_CONSECUTIVE_MINUTES minutes in a row is flagged: a warning in the log, an entry in the
 * platform audit trail, a row in the history, a webhook (NOISY_WEBHOOK_URL) and, with
 * NOISY_THROTTLE_FACTOR below 1, lower rate limits on every API instance until it is cleared.
 * A flagged tenant is cleared by the first minute it is not noisy. Each minute is evaluated once
 * across all workers (a lock in Redis).
 */
@Injectable()
export class NoisyDetector {
  private readonly logger = new Logger('NoisyNeighbours');

  constructor(
    private readonly config: BulkheadConfig,
    private readonly redis: NoisyRedis,
    private readonly store: UsageStore,
    private readonly history: NoisyHistory,
    private readonly throttle: NoisyThrottle,
    private readonly keys: NoisyKeys,
    @Optional() private readonly audit?: AuditTrail,
  ) {}

  async evaluate(minute: number): Promise<DetectionOutcome> {
    const locked = await this.redis.client.set(this.keys.lock(minute), '1', 'EX', 600, 'NX');
    if (locked !== 'OK') return { minute, evaluated: false, noisy: [], flagged: [], cleared: [] };
    const usage = await this.store.minute(minute);
    const noisy = detectNoisy(usage, { ratio: this.config.NOISY_RATIO, minTenants: this.config.NOISY_MIN_TENANTS });
    const [streaks, current] = await Promise.all([this.redis.client.hgetall(this.keys.streaks), this.redis.client.hgetall(this.keys.current)]);
    const flagged: string[] = [];
    const cleared: string[] = [];
    const writes = this.redis.client.multi();
    for (const tenantId of Object.keys(streaks)) if (!noisy.has(tenantId)) writes.hdel(this.keys.streaks, tenantId);
    for (const [tenantId, findings] of noisy) {
      const streak = Number(streaks[tenantId] ?? 0) + 1;
      writes.hset(this.keys.streaks, tenantId, String(streak));
      if (streak < this.config.NOISY_CONSECUTIVE_MINUTES) continue;
      const known = current[tenantId] ? (JSON.parse(current[tenantId]) as CurrentNoisyTenant) : undefined;
      const entry: CurrentNoisyTenant = { tenantId, since: known?.since ?? minute - streak + 1, lastMinute: minute, findings };
      writes.hset(this.keys.current, tenantId, JSON.stringify(entry, finiteRatios));
      if (!known) flagged.push(tenantId);
    }
    for (const tenantId of Object.keys(current)) {
      if (noisy.has(tenantId)) continue;
      writes.hdel(this.keys.current, tenantId);
      cleared.push(tenantId);
    }
    await writes.exec();
    for (const tenantId of flagged) await this.alert(tenantId, minute, noisy.get(tenantId) ?? []);
    for (const tenantId of cleared) await this.clear(tenantId, minute);
    if (flagged.length > 0 || cleared.length > 0) await this.throttle.announce();
    return { minute, evaluated: true, noisy: [...noisy.keys()], flagged, cleared };
  }

  /** Every tenant flagged now. */
  async current(): Promise<CurrentNoisyTenant[]> {
    const current = await this.redis.client.hgetall(this.keys.current);
    return Object.values(current)
      .map((text) => JSON.parse(text) as CurrentNoisyTenant)
      .sort((a, b) => a.since - b.since || a.tenantId.localeCompare(b.tenantId));
  }

  private async alert(tenantId: string, minute: number, findings: readonly NoisyFinding[]): Promise<void> {
    const details = { minute: new Date(minute * 60_000).toISOString(), findings: findings.map((finding) => ({ ...finding, ratio: Number.isFinite(finding.ratio) ? finding.ratio : null })) };
    this.logger.warn({ tenantId, ...details }, `noisy neighbour: tenant above ${this.config.NOISY_RATIO}x the median`);
    await this.settle('history', () => this.history.record(tenantId, 'flagged', minute, findings));
    if (this.audit) {
      await this.settle('audit', () =>
        this.audit!.recordPlatform([
          { action: 'tenant.noisy', outcome: 'flagged', actor: { kind: 'system', subject: 'noisy-neighbour-detector' }, resource: { type: 'tenants', id: tenantId }, details },
        ]),
      );
    }
    if (this.config.NOISY_WEBHOOK_URL) {
      const url = this.config.NOISY_WEBHOOK_URL;
      await this.settle('webhook', async () => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'tenant.noisy', tenantId, ratioThreshold: this.config.NOISY_RATIO, ...details }),
          signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        });
        if (!response.ok) throw new Error(`webhook answered ${response.status}`);
      });
    }
  }

  private async clear(tenantId: string, minute: number): Promise<void> {
    this.logger.log({ tenantId, minute: new Date(minute * 60_000).toISOString() }, 'noisy neighbour cleared');
    await this.settle('history', () => this.history.record(tenantId, 'cleared', minute, []));
  }

  /** One alert channel failing never stops the others (nor the next minute). */
  private async settle(channel: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.logger.warn({ err: error, channel }, 'noisy neighbour: an alert channel failed');
    }
  }
}

function finiteRatios(key: string, value: unknown): unknown {
  return key === 'ratio' && typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

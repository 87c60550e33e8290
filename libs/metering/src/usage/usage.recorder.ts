import { currentTenant, TenantData, TenantTransaction } from '@bulkhead/tenancy';
import { TenantJobs } from '@bulkhead/jobs';
import { Injectable, Logger } from '@nestjs/common';
import { QUOTA_ALERT_JOB, QuotaAlertPayload } from '../quotas/quota-alert.job';
import { MeterCatalog } from '../meters/meter.catalog';
import { MeterDefinition } from '../meters/meter.definition';
import { PlanCatalog, Quota, quotaMeasureOf } from '../quotas/plan.catalog';
import { QuotaExceededProblem } from '../quotas/quota.errors';
import { usageEventRowId } from './usage-event.id';
import { nextPeriod, periodStart } from './usage-period';
import { usageWriteStatement, UsageWriter } from './usage.writer';

export interface RecordedUsage {
  /**
   * Deterministic per billable thing (`<meter>:<order id>`): a retried or replayed action records
   * nothing more, however often it runs.
   */
  key: string;
  /** For sum, max and latest meters; count meters count 1. */
  value?: number;
  /** For unique-count meters. */
  uniqueKey?: string;
  subject?: string;
  data?: Record<string, unknown>;
  /** When the action happened, e.g. the row's `created_at`, so the source of truth and the meter agree on the period. */
  at?: Date;
}

export interface RecordOutcome {
  /**
   * Whether this call added the event (false: its key was recorded before). Absent when the
   * meter has no quota in the tenant's plan: the event then travels in the COMMIT message, where a
   * key recorded before likewise counts zero times.
   */
  recorded?: boolean;
  /** The quota's use after this event, when the meter has one in the tenant's plan. */
  used?: number;
}

/**
 * Records a billable action's usage in the action's own transaction (`tx`), so the event commits
 * exactly when the action does. When the tenant's plan caps the meter, the same statement updates
 * the quota's rollup row with a conditional upsert (`... DO UPDATE ... WHERE used + delta <= limit`): concurrent
 * writers queue on that row's lock and each sees the total the previous one committed, so the
 * limit is never overshot. A refused event throws `QuotaExceededProblem` and the caller's whole
 * transaction, action included, rolls back. Crossing 80% and 100% writes an alert row, once per
 * threshold and period. Without a quota there is nothing to decide before the commit, and the same
 * write travels in the transaction's COMMIT message instead of a round trip of its own.
 */
@Injectable()
export class UsageRecorder {
  constructor(
    private readonly catalog: MeterCatalog,
    private readonly plans: PlanCatalog,
    private readonly writer: UsageWriter,
    private readonly data: TenantData,
    private readonly jobs: TenantJobs,
  ) {}

  private readonly logger = new Logger('UsageRecorder');

  async record(tx: TenantTransaction, meterName: string, usage: RecordedUsage): Promise<RecordOutcome> {
    const meter = this.catalog.find(meterName);
    if (!meter || meter.origin !== 'recorded') throw new Error(`Meter ${meterName} is not a declared recorded meter`);
    // The recorded events' ids have a namespace of their own, which ingestion refuses: an ingested
    // event can never take the id of an action's usage and turn it into an uncounted duplicate.
    if (!usage.key.startsWith(`${meter.name}:`) || usage.key.length === meter.name.length + 1) throw new Error(`A ${meterName} usage key must be "${meterName}:<the action's id>"`);
    const tenant = currentTenant();
    const occurredAt = usage.at ? new Date(usage.at) : new Date();
    const value = meter.aggregation === 'count' ? 1 : usage.value;
    if (value === undefined || !Number.isFinite(value)) throw new Error(`Meter ${meterName} needs a finite value`);
    const quota = this.plans.quotaOf(tenant.tier, meter.name);
    const rowId = usageEventRowId(tx.tenantId, usage.key);
    const measure = quotaMeasureOf(meter);
    const delta = meter.aggregation === 'count' ? 1 : value;
    const resetsAt = quota && nextPeriod(periodStart(occurredAt, quota.per), quota.per);
    if (quota && delta > quota.limit) throw new QuotaExceededProblem({ meter: meter.name, limit: quota.limit, used: 0, resetsAt: resetsAt as Date });
    const event = {
      rowId,
      eventId: usage.key,
      meter: meter.name,
      origin: 'recorded' as const,
      source: 'bulkhead',
      subject: usage.subject ?? null,
      occurredAt,
      value: String(value),
      uniqueKey: usage.uniqueKey ?? null,
      data: usage.data ?? null,
    };
    // Nothing to check before the commit: the write rides in the COMMIT message (one round trip
    // fewer for every metered action), committed with the action or not at all.
    if (!quota) {
      tx.commitWith(usageWriteStatement(tx.tenantId, [event]));
      return {};
    }
    const outcome = await this.writer.write(tx, [event], { quota: { granularity: quota.per, limit: quota.limit, measure } });
    if (!outcome.inserted.has(rowId)) return { recorded: false };
    if (outcome.refused) {
      const used = await this.usedOf(tx, meter, quota, occurredAt);
      throw new QuotaExceededProblem({ meter: meter.name, limit: quota.limit, used, resetsAt: resetsAt as Date });
    }
    const used = outcome.used as number;
    await this.alertOnCrossing(tx, meter, quota, periodStart(occurredAt, quota.per), used - delta, used);
    return { recorded: true, used };
  }

  /**
   * Refuses early (429) when the meter's quota is already used up: for actions with side effects
   * before their transaction (an enqueued job). Not a guarantee under concurrency; `record` is.
   */
  async assertWithinQuota(meterName: string): Promise<void> {
    const meter = this.catalog.find(meterName);
    const quota = meter && this.plans.quotaOf(currentTenant().tier, meter.name);
    if (!meter || !quota) return;
    const now = new Date();
    const used = await this.data.transaction((tx) => this.usedOf(tx, meter, quota, now), { readOnly: true });
    if (used + (meter.aggregation === 'count' ? 1 : 0) > quota.limit) {
      throw new QuotaExceededProblem({ meter: meter.name, limit: quota.limit, used, resetsAt: nextPeriod(periodStart(now, quota.per), quota.per) });
    }
  }

  /** How much of a quota the tenant has used in the current period (0 when nothing yet). */
  async usedOf(tx: TenantTransaction, meter: MeterDefinition, quota: Quota, at = new Date()): Promise<number> {
    const rows = await tx.statement<{ used: string }>(
      `SELECT ${quotaMeasureOf(meter)}::text AS used FROM usage_rollup_totals
        WHERE tenant_id = $1 AND meter = $2 AND granularity = $3 AND period_start = $4::timestamptz`,
      [meter.name, quota.per, periodStart(at, quota.per).toISOString()],
    );
    return rows[0] ? Number(rows[0].used) : 0;
  }

  /**
   * Hands the alert to the worker's listeners (`QuotaAlertJob`). The row, written in this
   * transaction, is the durable record; should Redis refuse the job, the write still commits and
   * the alert stays readable in `usage_quota_alerts`, only its notification is lost.
   */
  private async announce(alertId: string, xact: string): Promise<void> {
    try {
      // One job per crossing transaction, not per alert: a crossing that rolled back leaves a job
      // of its own (which finds its transaction aborted and ends), never one that a later crossing
      // of the same threshold would be deduplicated against and so never announced.
      await this.jobs.enqueue(QUOTA_ALERT_JOB, { alertId, xact } satisfies QuotaAlertPayload, { jobId: `quota-alert-${alertId}-${xact}` });
    } catch (error) {
      this.logger.warn({ err: error, alertId }, 'quota alert recorded but not announced');
    }
  }

  private async alertOnCrossing(tx: TenantTransaction, meter: MeterDefinition, quota: Quota, start: Date, before: number, after: number): Promise<void> {
    for (const threshold of [80, 100]) {
      const mark = (quota.limit * threshold) / 100;
      if (before >= mark || after < mark) continue;
      // The id names the tenant too: listeners deduplicate on it, and one derived from the meter,
      // period and threshold alone was the same for every tenant crossing that threshold.
      const [alert] = await tx.statement<{ id: string; xact: string }>(
        `INSERT INTO usage_quota_alerts (tenant_id, id, meter, period_start, threshold, quota_limit, used)
         VALUES ($1, md5($1::uuid::text || '|' || $2::text || '|' || extract(epoch FROM $3::timestamptz)::bigint::text || '|' || $4::int::text)::uuid, $2, $3, $4::int, $5, $6)
         ON CONFLICT (tenant_id, id) DO NOTHING
         RETURNING id, pg_current_xact_id()::text AS xact`,
        [meter.name, start.toISOString(), threshold, quota.limit, after],
      );
      if (alert) await this.announce(alert.id, alert.xact);
    }
  }
}

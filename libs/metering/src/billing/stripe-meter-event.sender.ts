import { BulkheadConfig } from '@bulkhead/config';
import { TenantRecord } from '@bulkhead/control-plane';
import { withPg } from '@bulkhead/database';
import { Injectable, Logger } from '@nestjs/common';
import { Client } from 'pg';
import Stripe from 'stripe';
import { forEachTenant } from '../admin/fleet-usage.service';
import { BillingNotConfiguredProblem } from './billing.errors';
import { BillingExportService } from './billing-export.service';
import { TenantSelection, UsageReconciler } from './usage-reconciler';

const logger = new Logger('StripeMeterEventSender');

/** Meter events in flight to the provider at once, per tenant. */
const CONCURRENCY = 8;
/** Sent events are recorded after every chunk, so a crash resends at most one chunk. */
const CHUNK = 200;

export interface TenantSend {
  tenantId: string;
  slug: string;
  status: 'sent' | 'blocked' | 'failed';
  sent: number;
  error?: string;
}

/**
 * Sends a period's meter events to Stripe (`POST /v2/billing/meter_events`, the official `stripe`
 * package, base URL BILLING_STRIPE_BASE_URL) and records each acknowledged event in the tenant's
 * `usage_billing_sends`, so a re-run sends only what was never acknowledged: nothing twice. An
 * event acknowledged by Stripe just before a crash (not yet recorded) is sent again with the same
 * `identifier`, which Stripe deduplicates (for at least 24 hours): re-run a failed send promptly.
 * A tenant with unacknowledged drift for the period is skipped (`blocked`).
 */
@Injectable()
export class StripeMeterEventSender {
  constructor(
    private readonly config: BulkheadConfig,
    private readonly exports: BillingExportService,
    private readonly reconciler: UsageReconciler,
  ) {}

  /**
   * Two sends of one tenant's period at once would both read the same unsent events and post
   * each twice: each tenant's send runs under a session advisory lock on (tenant, period), taken
   * on a connection of this run's own (closed at its end, or by the server if the process dies),
   * and a tenant whose lock another run holds is reported `failed`, nothing sent.
   */
  async send(period: string, selection: TenantSelection = {}): Promise<{ tenants: TenantSend[]; next: string | null }> {
    const stripe = this.client();
    return withPg(this.config.DATABASE_URL, 'bulkhead-billing-send', (locks) => this.sendLocked(stripe, locks, period, selection));
  }

  private async sendLocked(stripe: Stripe, locks: Client, period: string, selection: TenantSelection): Promise<{ tenants: TenantSend[]; next: string | null }> {
    const lockKey = (tenantId: string) => `bulkhead:billing-send:${tenantId}:${period}`;
    const results: TenantSend[] = [];
    // After one failure (the provider unreachable or refusing) the rest of the run is not tried:
    // a re-run picks up exactly where this one stopped.
    let stopped: string | undefined;
    // The locks die with their connection: the rest of the run is not tried without them (and the
    // 'error' event, unheard, would end the process).
    locks.on('error', (error: Error) => {
      stopped ??= `the send's lock connection was lost (${error.message})`;
    });
    let next: string | null = null;
    for await (const page of this.reconciler.tenantPages(selection)) {
      next = page.next;
      results.push(
        ...(await forEachTenant(page.tenants, 'operator:billing-send', async (tenant): Promise<TenantSend> => {
          const base = { tenantId: tenant.id, slug: tenant.slug };
          if (stopped !== undefined) return { ...base, status: 'failed', sent: 0, error: `not attempted: ${stopped}` };
          const locked = await locks.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [lockKey(tenant.id)]);
          if (!locked.rows[0]?.locked) return { ...base, status: 'failed', sent: 0, error: `another send of ${period} for this tenant is running` };
          try {
            return await this.sendTenant(stripe, tenant, period, (reason) => (stopped ??= reason));
          } finally {
            // The tenant's result stands whatever the unlock does: a lock whose connection is gone is released with it.
            await locks.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey(tenant.id)]).catch((error: unknown) => {
              logger.warn({ err: error, tenantId: tenant.id, period }, 'billing send: releasing the lock failed');
            });
          }
        }, (tenant, error) => ({ tenantId: tenant.id, slug: tenant.slug, status: 'failed' as const, sent: 0, error: `placement unavailable: ${error instanceof Error ? error.message : String(error)}` }))),
      );
    }
    return { tenants: results, next };
  }

  /** One tenant's unsent events of the period, in chunks, each chunk recorded once acknowledged. */
  private async sendTenant(stripe: Stripe, tenant: TenantRecord, period: string, stop: (reason: string) => void): Promise<TenantSend> {
    const base = { tenantId: tenant.id, slug: tenant.slug };
    const pending = await this.exports.exportCurrent(tenant, period, { unsentOnly: true });
    if (pending.status === 'blocked') return { ...base, status: 'blocked', sent: 0 };
    let sent = 0;
    for (let start = 0; start < pending.events.length; start += CHUNK) {
      const chunk = pending.events.slice(start, start + CHUNK);
      const acknowledged: string[] = [];
      let failure: unknown;
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (failure === undefined && next < chunk.length) {
            const line = chunk[next++];
            try {
              await stripe.v2.billing.meterEvents.create(line);
              acknowledged.push(line.identifier);
            } catch (error) {
              failure = error;
            }
          }
        }),
      );
      await this.exports.markSent(period, acknowledged);
      sent += acknowledged.length;
      if (failure !== undefined) {
        const error = failure instanceof Error ? failure.message : String(failure);
        stop(`an earlier send failed (${error})`);
        return { ...base, status: 'failed', sent, error };
      }
    }
    return { ...base, status: 'sent', sent };
  }

  private client(): Stripe {
    const key = this.config.BILLING_STRIPE_API_KEY;
    if (!key) throw new BillingNotConfiguredProblem();
    const url = new URL(this.config.BILLING_STRIPE_BASE_URL);
    return new Stripe(key, {
      host: url.hostname,
      port: url.port || (url.protocol === 'http:' ? 80 : 443),
      protocol: url.protocol === 'http:' ? 'http' : 'https',
      maxNetworkRetries: 2,
      timeout: 10_000,
      telemetry: false,
    });
  }
}

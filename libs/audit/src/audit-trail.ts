import { BulkheadConfig } from '@bulkhead/config';
import { currentTenant, runWithTenant, TenantContext, tenantContextOf, TenantData, TenantTransaction } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { AuditEvent } from './audit-event';
import { appendStatement, encodeEntry } from './entry-encoding';
import { AuditChainer } from './audit-chainer';
import { TenantKeyring } from './tenant-keyring';

/** The platform's own chain (operator actions, refusals without a tenant), kept in the pool under this id. */
export const PLATFORM_TRAIL_ID = '00000000-0000-0000-0000-000000000000';

const recorded = new WeakSet<TenantTransaction>();

/**
 * Appends entries to the hash chain of the transaction's tenant. An entry is sent in the COMMIT
 * message of the transaction it describes, so it commits exactly when that transaction's writes
 * do, without a round trip of its own; it commits pending and the AuditChainer links it into the
 * chain right after, in a batch with the tenant's other new entries.
 */
@Injectable()
export class AuditTrail {
  constructor(
    private readonly data: TenantData,
    private readonly keyring: TenantKeyring,
    private readonly config: BulkheadConfig,
    private readonly chainer: AuditChainer,
  ) {}

  /** Records `event` in `tx`'s tenant's chain, committed with `tx` (which must be a write transaction). */
  async record(tx: TenantTransaction, event: AuditEvent): Promise<void> {
    await this.recordAll(tx, [event]);
  }

  async recordAll(tx: TenantTransaction, events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    const key = await this.keyring.keyFor(tx);
    tx.commitWith(appendStatement(events.map((event) => encodeEntry(tx.tenantId, event, key))));
    // The entry commits pending with the write; it is linked into the chain right after.
    const tenant = currentTenant();
    tx.afterCommit(() => this.chainer.schedule(tenant));
    recorded.add(tx);
  }

  /** Whether `tx` already carries an explicit entry (then the write hook adds no generic one). */
  static hasRecorded(tx: TenantTransaction): boolean {
    return recorded.has(tx);
  }

  /** Records `event` in its own transaction in the current tenant's chain. */
  async recordNow(event: AuditEvent): Promise<void> {
    await this.data.transaction((tx) => this.record(tx, event));
  }

  /** Records events in the chain of `tenant` (a registry record), from outside its context (an operator's action on it). */
  async recordFor(tenant: Parameters<typeof tenantContextOf>[0], events: readonly AuditEvent[]): Promise<void> {
    await runWithTenant(tenantContextOf(tenant, 'audit'), () => this.data.transaction((tx) => this.recordAll(tx, events)));
  }

  /** Records events in the platform's own chain (operators, requests refused before a tenant was known). */
  async recordPlatform(events: readonly AuditEvent[]): Promise<void> {
    await runWithTenant(this.platformContext(), () => this.data.transaction((tx) => this.recordAll(tx, events)));
  }

  /**
   * A step of a tenant's lifecycle (provisioned, migrated, moved, suspended, erased...), for the
   * lifecycle work to call: recorded in the tenant's chain and in the platform chain, each in its
   * own transaction. `actor` is who asked (an operator, or the system).
   */
  async recordLifecycleStep(
    tenant: Parameters<typeof tenantContextOf>[0],
    step: { name: string; outcome: 'started' | 'succeeded' | 'failed'; actor: AuditEvent['actor']; requestId?: string; details?: Record<string, unknown> },
  ): Promise<void> {
    const event: AuditEvent = {
      action: `lifecycle.${step.name}`,
      outcome: step.outcome,
      actor: step.actor,
      resource: { type: 'tenants', id: tenant.id },
      requestId: step.requestId ?? null,
      resolution: { via: 'lifecycle', placement: { model: tenant.isolation, cluster: tenant.cluster, schema: tenant.schemaName, database: tenant.databaseName } },
      details: step.details,
    };
    await Promise.all([this.recordFor(tenant, [event]), this.recordPlatform([event])]);
  }

  platformContext(): TenantContext {
    return tenantContextOf(
      { id: PLATFORM_TRAIL_ID, slug: 'platform', tier: 'enterprise', isolation: 'pool', region: this.config.REGION, cluster: 'main', schemaName: null, databaseName: null },
      'platform',
    );
  }

  /** The tenant context of the current unit of work, or none (operator routes). */
  static tenantOrNone(): TenantContext | undefined {
    try {
      return currentTenant();
    } catch {
      return undefined;
    }
  }
}

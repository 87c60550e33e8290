import { BulkheadConfig } from '@bulkhead/config';
import { currentTenant, runWithTenant, TenantContext, tenantContextOf, TenantData, TenantTransaction } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { AuditEvent } from './audit-event';
import { appendStatement, EncodedEntry, encodeEntry } from './entry-encoding';
import { keyedEntryId } from './keyed-entry-id';
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
    this.append(tx, events.map((event) => encodeEntry(tx.tenantId, event, key)));
  }

  /**
   * Records `event` in `tx`'s tenant's chain once per `once.key`: its entry's id is derived from
   * the chain and the key (`keyedEntryId`), its time is `once.at`, and a chain that already holds
   * that id gets nothing. Two writers of one key at once both pass the look; the primary key
   * refuses the second at its COMMIT, and its caller's retry finds the first.
   */
  async recordOnce(tx: TenantTransaction, event: AuditEvent, once: { key: string; at: Date }): Promise<void> {
    const id = keyedEntryId(tx.tenantId, once.key, once.at);
    const found = await tx.statement('SELECT 1 AS found FROM audit_entries WHERE tenant_id = $1 AND id = $2::uuid', [id]);
    if (found.length > 0) return;
    const key = await this.keyring.keyFor(tx);
    this.append(tx, [encodeEntry(tx.tenantId, event, key, once.at, id)]);
  }

  private append(tx: TenantTransaction, entries: readonly EncodedEntry[]): void {
    tx.commitWith(appendStatement(entries));
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
   * own transaction. `actor` is who asked (an operator, or the system). With `once`, the step is
   * recorded once per chain for its key however often this is called (see `recordOnce`): a caller
   * that retries (a lifecycle event delivered at least once) passes the event's id and time, and a
   * retry after one chain took the entry and the other did not completes the other only.
   */
  async recordLifecycleStep(
    tenant: Parameters<typeof tenantContextOf>[0],
    step: {
      name: string;
      outcome: 'started' | 'succeeded' | 'failed';
      actor: AuditEvent['actor'];
      requestId?: string;
      details?: Record<string, unknown>;
      once?: { key: string; at: Date };
    },
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
    const once = step.once;
    if (!once) {
      await Promise.all([this.recordFor(tenant, [event]), this.recordPlatform([event])]);
      return;
    }
    await Promise.all([
      runWithTenant(tenantContextOf(tenant, 'audit'), () => this.data.transaction((tx) => this.recordOnce(tx, event, once))),
      runWithTenant(this.platformContext(), () => this.data.transaction((tx) => this.recordOnce(tx, event, once))),
    ]);
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

import { BulkheadConfig } from '@bulkhead/config';
import { TenantRecord, TenantRepository } from '@bulkhead/control-plane';
import { isTenantId, withPg } from '@bulkhead/database';
import { runWithTenant, TenantContext, tenantContextOf, TenantData } from '@bulkhead/tenancy';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AuditKeys } from './audit-key-file';
import { AuditTrail } from './audit-trail';
import { ChainHeadRow } from './chain-head.entity';
import { Checkpoint, signCheckpoint } from './checkpoint';
import { CheckpointSink, FileCheckpointSink, HttpCheckpointSink } from './checkpoint-sinks';

const PAGE = 500;

/**
 * Signs every chain head that moved since the last round (Ed25519, the key of AUDIT_KEY_FILE) and
 * hands the checkpoints to the sinks outside the database (AUDIT_CHECKPOINT_FILE,
 * AUDIT_CHECKPOINT_URL), every AUDIT_CHECKPOINT_INTERVAL_MS. Runs in the worker. Heads are read
 * through `TenantData` in each tenant's context, as the runtime role, under RLS. A round whose sink
 * fails is retried whole at the next round. The interval bounds how long a rewrite of a chain's
 * tail (and its head) by a superuser can go unnoticed by `audit verify`.
 */
@Injectable()
export class AuditCheckpointer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AuditCheckpointer');
  private readonly signed = new Map<string, string>();
  private readonly sinks: CheckpointSink[];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly config: BulkheadConfig,
    private readonly keys: AuditKeys,
    private readonly data: TenantData,
    private readonly tenants: TenantRepository,
    private readonly trail: AuditTrail,
  ) {
    this.sinks = [
      ...(config.AUDIT_CHECKPOINT_FILE ? [new FileCheckpointSink(config.AUDIT_CHECKPOINT_FILE)] : []),
      ...(config.AUDIT_CHECKPOINT_URL ? [new HttpCheckpointSink(config.AUDIT_CHECKPOINT_URL)] : []),
    ];
  }

  onApplicationBootstrap(): void {
    // Without a sink the rounds still run: they chain what crashes and outages left pending.
    if (this.config.AUDIT_CHECKPOINT_INTERVAL_MS === 0) return;
    this.timer = setInterval(() => {
      this.running ??= this.checkpoint()
        .then(() => undefined, (error: unknown) => this.logger.error({ err: error }, 'audit checkpoint round failed'))
        .finally(() => (this.running = undefined));
    }, this.config.AUDIT_CHECKPOINT_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /**
   * One round: signs the heads that moved and writes them to every sink; returns what it wrote.
   * With several workers, one round runs at a time across all of them (a session advisory lock on
   * a connection of its own, gone with it): the others skip theirs rather than sign the same heads.
   */
  async checkpoint(): Promise<Checkpoint[]> {
    return withPg(this.config.DATABASE_URL, 'bulkhead-audit-checkpoint', async (client) => {
      const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock(hashtextextended('bulkhead:audit-checkpoint-round', 0)) AS locked");
      return rows[0]?.locked ? this.round() : [];
    });
  }

  private async round(): Promise<Checkpoint[]> {
    const checkpoints: Checkpoint[] = [];
    for (const context of [this.trail.platformContext(), ...(await this.liveTenants()).map((t) => tenantContextOf(t, 'checkpointer'))]) {
      const head = await this.headOf(context);
      if (!head || this.signed.get(context.tenantId) === head.seq) continue;
      checkpoints.push(signCheckpoint(this.keys.signingKey, this.keys.keyId, { tenant: context.tenantId, seq: BigInt(head.seq), hash: head.hash }));
    }
    if (checkpoints.length === 0 || this.sinks.length === 0) return [];
    for (const sink of this.sinks) await sink.write(checkpoints);
    for (const checkpoint of checkpoints) this.signed.set(checkpoint.tenant, checkpoint.seq);
    return checkpoints;
  }

  /** Chains what is pending first (entries whose chaining a crash or an outage interrupted), then reads the head. */
  private async headOf(context: TenantContext): Promise<ChainHeadRow | null> {
    try {
      if (!isTenantId(context.tenantId)) throw new Error('not a tenant id');
      await runWithTenant(context, () => this.data.transaction(async (tx) => tx.commitWith(`SELECT audit_chain_pending('${context.tenantId}'::uuid)`)));
      return await runWithTenant(context, () => this.data.read(ChainHeadRow).findOneBy({}));
    } catch (error) {
      this.logger.warn({ err: error, tenantId: context.tenantId }, 'chain head not readable for a checkpoint');
      return null;
    }
  }

  private async liveTenants(): Promise<TenantRecord[]> {
    const all: TenantRecord[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.tenants.list({ after, limit: PAGE });
      all.push(...page.filter((tenant) => tenant.status === 'active' || tenant.status === 'suspended'));
      if (page.length < PAGE) return all;
      after = page[page.length - 1].id;
    }
  }
}

import { BulkheadConfig } from '@bulkhead/config';
import { CreateTenantDto, TenantRecord, TenantRepository } from '@bulkhead/control-plane';
import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { LifecycleExternalRefTakenProblem, LifecycleNotFoundProblem, LifecycleSlugTakenProblem, LifecycleStateProblem, OnboardingFailedProblem, SignupKeyReusedProblem } from './lifecycle.errors';
import { LifecycleStore } from './lifecycle.store';
import { OnboardingRequest } from './onboarding/onboarding-request';
import { SagaDefinitions } from './saga/saga-definitions';
import { SagaLedger } from './saga/saga.ledger';
import { SagaKind, SagaRecord } from './saga/saga.record';
import { SagaRunner } from './saga/saga.runner';
import { SagaStep } from './saga/saga-step';
import { SagaStarter } from './saga/saga-starter';

export interface StartedSaga {
  saga: SagaRecord;
  /** False when a repeated submit found the saga the first one started. */
  created: boolean;
}

/** Starts, retries and aborts lifecycle sagas; shared by the API routes and the CLI. */
@Injectable()
export class LifecycleService {
  constructor(
    private readonly ledger: SagaLedger,
    private readonly runner: SagaRunner,
    private readonly starter: SagaStarter,
    private readonly definitions: SagaDefinitions,
    private readonly tenants: TenantRepository,
    private readonly config: BulkheadConfig,
    private readonly store: LifecycleStore,
  ) {}

  /**
   * Records an onboarding saga and reserves the slug before answering (a taken slug is a 409 now,
   * not a failed saga later), then hands the rest to the worker. With `requestKey` a repeated
   * submit finds the first one's saga; the same key with a different request is refused.
   */
  async onboard(input: CreateTenantDto, source: OnboardingRequest['source'], actor: string, requestKey?: string): Promise<StartedSaga> {
    const request: OnboardingRequest = {
      slug: input.slug,
      name: input.name,
      tier: input.tier,
      ...(input.isolation ? { isolation: input.isolation } : {}),
      ...(input.region ? { region: input.region } : {}),
      ...(input.externalRef ? { externalRef: input.externalRef } : {}),
      source,
    };
    const digest = createHash('sha256').update(JSON.stringify(request)).digest('hex');
    const { saga, created, digest: existingDigest } = await this.ledger.create({
      tenantId: uuidv7(),
      kind: 'onboarding',
      request: request as unknown as Record<string, unknown>,
      startedBy: actor,
      steps: this.definitions.names('onboarding'),
      requestKey,
      requestDigest: digest,
    });
    if (!created) {
      if (existingDigest !== digest) throw new SignupKeyReusedProblem();
      if (saga.status === 'failed') throwIfTaken(saga.reason);
      return { saga, created };
    }
    const outcome = await this.runner.run(saga.id, { stopAfter: 'reserve' });
    if (outcome === 'failed') {
      const failed = await this.ledger.get(saga.id);
      throwIfTaken(failed?.reason);
    }
    await this.starter.enqueue(saga.id, 0, actor);
    return { saga: (await this.ledger.get(saga.id)) ?? saga, created };
  }

  /**
   * Runs an onboarding saga to its end in this process and answers the active tenant: the
   * synchronous face of the same saga (`POST /v1/admin/tenants`). Another run holding it (its
   * job, picked up first) is waited for, up to twice the lease.
   */
  async completeOnboarding(sagaId: string): Promise<TenantRecord> {
    const deadline = Date.now() + 2 * this.config.LIFECYCLE_LEASE_MS;
    for (;;) {
      const outcome = await this.runner.run(sagaId);
      if (outcome !== 'busy' || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const saga = await this.ledger.get(sagaId);
    const tenant = saga?.status === 'succeeded' ? await this.tenants.findById(saga.tenantId) : null;
    if (!tenant || tenant.status !== 'active') throw new OnboardingFailedProblem();
    return tenant;
  }

  /** Starts an offboarding or restore saga of a tenant (none other at work). */
  async start(tenantId: string, kind: Exclude<SagaKind, 'onboarding'>, actor: string, request: Record<string, unknown>): Promise<SagaRecord> {
    const tenant = await this.tenants.findById(tenantId);
    if (!tenant) throw new LifecycleNotFoundProblem();
    const { saga, created } = await this.ledger.create({ tenantId, kind, request, startedBy: actor, steps: this.definitions.names(kind) });
    if (!created) throw new LifecycleStateProblem(`The tenant's ${saga.kind} is ${saga.status}; wait for it, retry it or abort it first.`);
    await this.starter.enqueue(saga.id, 0, actor);
    return saga;
  }

  async sagasOf(tenantId: string): Promise<Array<{ saga: SagaRecord; steps: Awaited<ReturnType<SagaLedger['steps']>> }>> {
    const sagas = await this.ledger.forTenant(tenantId);
    if (!sagas.length && !(await this.tenants.findById(tenantId))) throw new LifecycleNotFoundProblem();
    return Promise.all(sagas.map(async (saga) => ({ saga, steps: await this.ledger.steps(saga.id) })));
  }

  async saga(sagaId: string): Promise<{ saga: SagaRecord; steps: Awaited<ReturnType<SagaLedger['steps']>> } | null> {
    const saga = await this.ledger.get(sagaId);
    return saga ? { saga, steps: await this.ledger.steps(saga.id) } : null;
  }

  /** Runs a failed saga again from its first unfinished step. */
  async retry(tenantId: string, actor: string): Promise<SagaRecord> {
    const latest = await this.latest(tenantId);
    const restarted = await this.ledger.restart(latest.id);
    if (!restarted) throw new LifecycleStateProblem(`The tenant's ${latest.kind} is ${latest.status}; only a failed one can be retried.`);
    await this.starter.enqueue(restarted.id, restarted.runs, actor);
    return restarted;
  }

  /** Stops a running saga: its compensations run and it ends `aborted`. */
  async abort(tenantId: string, actor: string): Promise<SagaRecord> {
    const latest = await this.latest(tenantId);
    // Both routes (abort and restore) refuse once an irreversible step (erasure) has begun; the
    // runner refuses to undo anything past it too, should an abort cross that step's start.
    let begun: SagaStep | undefined;
    const requested = await this.ledger.requestAbort(latest.id, `aborted by ${actor}`, (steps) => (begun = this.definitions.pointOfNoReturn(latest.kind, steps)) !== undefined);
    if (requested === 'past_point') throw new LifecycleStateProblem(`The ${latest.kind} is past its point of no return: ${begun?.irreversible} has begun.`);
    if (requested === 'not_running') {
      throw new LifecycleStateProblem(`The tenant's ${latest.kind} is ${latest.status}; only a running one can be aborted.`);
    }
    const runs = await this.ledger.bumpRuns(latest.id);
    await this.starter.enqueue(latest.id, runs, actor);
    return (await this.ledger.get(latest.id)) ?? latest;
  }

  private async latest(tenantId: string): Promise<SagaRecord> {
    const sagas = await this.ledger.forTenant(tenantId);
    const latest = sagas[sagas.length - 1];
    if (!latest) throw new LifecycleNotFoundProblem();
    return latest;
  }

  /** Fences, exports and (after the grace period) erases a tenant; `graceDays` overrides LIFECYCLE_GRACE_DAYS. */
  async offboard(tenantId: string, actor: string, graceDays?: number): Promise<SagaRecord> {
    const tenant = await this.tenants.findById(tenantId);
    if (!tenant) throw new LifecycleNotFoundProblem();
    if (tenant.status !== 'active' && tenant.status !== 'suspended') throw new LifecycleStateProblem(`The tenant is ${tenant.status}; only an active or suspended tenant can be offboarded.`);
    return this.start(tenantId, 'offboarding', actor, { model: tenant.isolation, graceDays: graceDays ?? this.config.LIFECYCLE_GRACE_DAYS });
  }

  /** Within the grace period: stops the offboarding and lifts the fence; the data was never touched. */
  async restore(tenantId: string, actor: string): Promise<SagaRecord> {
    const latest = await this.latest(tenantId);
    if (latest.kind !== 'offboarding' || latest.status !== 'running') throw new LifecycleStateProblem('The tenant is not being offboarded.');
    return this.abort(tenantId, actor);
  }

  async archive(tenantId: string): Promise<{ manifest: Record<string, unknown>; content: Buffer; sha256: string } | null> {
    const rows = await this.store.query<{ manifest: Record<string, unknown>; content: Buffer; sha256: string }>(
      'SELECT manifest, content, sha256 FROM lifecycle_archives WHERE tenant = $1 AND erased_at IS NULL ORDER BY created_at DESC LIMIT 1',
      [tenantId],
    );
    return rows[0] ?? null;
  }

  async certificate(tenantId: string): Promise<Record<string, unknown> | null> {
    const rows = await this.store.query<{ certificate: Record<string, unknown> }>('SELECT certificate FROM lifecycle_certificates WHERE tenant = $1', [tenantId]);
    return rows[0]?.certificate ?? null;
  }
}

/** The 409 of an onboarding whose reserve step found its slug or external reference taken. */
function throwIfTaken(reason: string | null | undefined): void {
  if (reason?.startsWith('reserve: tenant_slug_taken')) throw new LifecycleSlugTakenProblem();
  if (reason?.startsWith('reserve: tenant_external_ref_taken')) throw new LifecycleExternalRefTakenProblem();
}

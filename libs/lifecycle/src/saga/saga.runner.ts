import { BulkheadConfig } from '@bulkhead/config';
import { waitsOut } from '@bulkhead/jobs';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { hostname } from 'node:os';
import { v7 as uuidv7 } from 'uuid';
import { SagaDefinitions } from './saga-definitions';
import { SagaLedger } from './saga.ledger';
import { SagaRecord, StepRecord } from './saga.record';
import { PermanentStepError, SAGA_OBSERVER, SagaObserver, SagaStep, StepContext, StepNotDueError } from './saga-step';

export type RunOutcome = 'succeeded' | 'failed' | 'aborted' | 'busy' | 'finished' | 'paused' | 'waiting';

export interface RunOptions {
  /** Run up to and including this step, then stop (the API reserves the slug before it answers). */
  stopAfter?: string;
}

/**
 * Runs a saga's pending steps in order, under a lease, recording each in the ledger before and
 * after it runs. A run killed anywhere leaves a step `running` or `pending`; the next run (after the
 * lease runs out) runs it again, which every step tolerates. A step that fails for good (a
 * permanent error, or LIFECYCLE_STEP_ATTEMPTS real failures) turns the saga to compensation: the
 * compensations of every step that ran, last first, then the saga ends `failed` with the reason.
 * An unreachable database or Redis, or a unit of work this process shed (`overloaded`), is not a
 * failure: the error goes up, the job parks and retries.
 */
@Injectable()
export class SagaRunner {
  private readonly logger = new Logger('SagaRunner');
  /** This process; each run adds its own id (see `run`). */
  private readonly process = `${hostname()}:${process.pid}`;

  constructor(
    private readonly ledger: SagaLedger,
    private readonly definitions: SagaDefinitions,
    private readonly config: BulkheadConfig,
    @Optional() @Inject(SAGA_OBSERVER) private readonly observer?: SagaObserver,
  ) {}

  async run(sagaId: string, options: RunOptions = {}): Promise<RunOutcome> {
    const leaseMs = this.config.LIFECYCLE_LEASE_MS;
    // The lease names the run, not the process: two runs of one saga in one process (an API
    // continuing a signup that is submitted again) must exclude each other as two processes do.
    const owner = `${this.process}:${uuidv7()}`;
    const saga = await this.ledger.acquire(sagaId, owner, leaseMs);
    if (!saga) {
      const current = await this.ledger.get(sagaId);
      return current && (current.status === 'running' || current.status === 'compensating') ? 'busy' : 'finished';
    }
    const heartbeat = setInterval(() => void this.ledger.renew(sagaId, owner, leaseMs).catch(() => undefined), Math.max(50, Math.floor(leaseMs / 3)));
    try {
      const steps = this.definitions.steps(saga.kind);
      if (saga.status === 'running') {
        const outcome = await this.forward(saga, steps, options);
        if (outcome !== 'compensate') return outcome;
      }
      return await this.compensate(sagaId, steps);
    } finally {
      clearInterval(heartbeat);
      await this.ledger.release(sagaId, owner).catch(() => undefined);
    }
  }

  private async forward(saga: SagaRecord, steps: readonly SagaStep[], options: RunOptions): Promise<RunOutcome | 'compensate'> {
    const records = await this.ledger.steps(saga.id);
    for (const step of steps) {
      const record = records.find((r) => r.step === step.name);
      if (!record) throw new Error(`saga ${saga.id} has no ledger row for step ${step.name}`);
      if (record.status === 'succeeded') {
        if (options.stopAfter === step.name) return 'paused';
        continue;
      }
      // An operator's abort is seen between steps.
      const current = await this.ledger.get(saga.id);
      if (!current || current.status !== 'running') return 'compensate';
      await this.observe('before', step.name);
      // An abort that came after the check above: the step does not begin.
      if (!(await this.ledger.startStep(saga.id, record.position))) return 'compensate';
      const context = this.contextFor(current, records, record);
      let details: Record<string, unknown> | void;
      try {
        details = await step.run(context);
      } catch (error) {
        const message = (error as Error).message ?? String(error);
        if (error instanceof StepNotDueError) {
          if (await this.ledger.sleepUntil(saga.id, record.position, error.due)) return 'waiting';
          // Aborted while the step ran: compensate now rather than sleep.
          return 'compensate';
        }
        // An outage, or this process shedding the step's unit of work (`overloaded`), is no failure
        // of the step: counted, a busy process turned onboardings to compensation.
        if (waitsOut(error)) {
          await this.ledger.failStep(saga.id, record.position, message, false).catch(() => undefined);
          throw error;
        }
        const permanent = error instanceof PermanentStepError;
        const failures = await this.ledger.failStep(saga.id, record.position, message, true);
        this.logger.warn({ err: error, sagaId: saga.id, tenantId: saga.tenantId, step: step.name, failures }, 'lifecycle step failed');
        if (permanent || failures >= this.config.LIFECYCLE_STEP_ATTEMPTS) {
          const code = permanent ? (error as PermanentStepError).code : 'step_failed';
          await this.ledger.beginCompensation(saga.id, `${step.name}: ${code}: ${message}`);
          return 'compensate';
        }
        throw error;
      }
      // Its effects are done and not yet recorded: the most delicate place to die.
      await this.observe('inside', step.name, 'ran');
      record.details = { ...record.details, ...(details ?? {}) };
      await this.ledger.completeStep(saga.id, record.position, details ?? {});
      record.status = 'succeeded';
      await this.observe('after', step.name);
      if (options.stopAfter === step.name) return 'paused';
    }
    await this.ledger.finish(saga.id, 'succeeded');
    return 'succeeded';
  }

  /** Undoes, last first, every step that ran or may have run; each compensation is idempotent. */
  private async compensate(sagaId: string, steps: readonly SagaStep[]): Promise<RunOutcome> {
    const saga = await this.ledger.get(sagaId);
    if (!saga) return 'finished';
    const records = await this.ledger.steps(sagaId);
    // Decided here, from the ledger, whatever asked for it (a failure, an operator's abort that
    // crossed the step's start): past a point of no return nothing is undone.
    const begun = this.definitions.pointOfNoReturn(saga.kind, records);
    if (begun) {
      this.logger.warn({ sagaId, tenantId: saga.tenantId, step: begun.name }, 'lifecycle saga past its point of no return: nothing undone, left failed for a retry');
      await this.ledger.finish(sagaId, 'failed');
      return 'failed';
    }
    for (const step of [...steps].reverse()) {
      const record = records.find((r) => r.step === step.name);
      if (!record || record.status === 'pending' || record.status === 'compensated') continue;
      if (step.compensate) {
        await this.observe('before', `compensate_${step.name}`);
        await step.compensate(this.contextFor(saga, records, record), record);
        await this.observe('inside', `compensate_${step.name}`, 'ran');
      }
      await this.ledger.markCompensated(sagaId, record.position);
      record.status = 'compensated';
      await this.observe('after', `compensate_${step.name}`);
    }
    const outcome = saga.abortRequested ? 'aborted' : 'failed';
    await this.ledger.finish(sagaId, outcome);
    return outcome;
  }

  private contextFor(saga: SagaRecord, records: StepRecord[], current: StepRecord): StepContext {
    return {
      saga,
      details: (name) => records.find((r) => r.step === name)?.details ?? {},
      note: async (details) => {
        current.details = { ...current.details, ...details };
        await this.ledger.note(saga.id, current.position, details);
      },
      checkpoint: (label) => this.observe('inside', current.step, label),
    };
  }

  private async observe(phase: 'before' | 'inside' | 'after', step: string, label?: string): Promise<void> {
    if (this.observer) await this.observer(phase, step, label);
  }
}

import { SagaRecord, StepRecord } from './saga.record';

/** What a step sees of its saga while it runs. */
export interface StepContext {
  readonly saga: SagaRecord;
  /** Details recorded by the steps before this one (and this one's, from an earlier run). */
  details(step: string): Record<string, unknown>;
  /** Records part of this step's outcome before the step ends, so a run killed after it can see it. */
  note(details: Record<string, unknown>): Promise<void>;
  /** A point inside the step, between two of its effects (observers act here: tests kill the process). */
  checkpoint(label: string): Promise<void>;
}

/**
 * One step of a saga. `run` must be idempotent: a run killed anywhere, before or after its
 * effects, is followed by another run of the same step, which must end in the same state.
 * `compensate` undoes what the step may have done (it may have done nothing, or half) and must
 * be idempotent too.
 */
export interface SagaStep {
  readonly name: string;
  /**
   * Set on a point of no return, naming what it does (`erasure`): once it has begun, the saga is
   * never compensated. Undoing the steps before it would bring back a tenant whose data is partly
   * gone; a failure or an abort from there on leaves the saga failed, for an operator to retry.
   */
  readonly irreversible?: string;
  run(context: StepContext): Promise<Record<string, unknown> | void>;
  compensate?(context: StepContext, step: StepRecord): Promise<void>;
}

/** A step that can never succeed with this input (a slug taken by another tenant): fail the saga at once. */
export class PermanentStepError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentStepError';
  }
}

/** A step whose time has not come (the grace period): the saga sleeps until `due`, nothing failed. */
export class StepNotDueError extends Error {
  constructor(readonly due: Date) {
    super(`not due before ${due.toISOString()}`);
    this.name = 'StepNotDueError';
  }
}

/** Sees each step boundary and each checkpoint inside a step (tests use it to kill the process there). */
export type SagaObserver = (phase: 'before' | 'inside' | 'after', step: string, label?: string) => void | Promise<void>;

export const SAGA_OBSERVER = Symbol('bulkhead.lifecycle.saga-observer');

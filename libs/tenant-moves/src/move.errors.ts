import { ProblemError } from '@bulkhead/problem';

export class MoveInProgressProblem extends ProblemError {
  constructor(detail: string) {
    super(409, 'move_in_progress', 'Move in progress', detail);
  }
}

export class MoveNotFoundProblem extends ProblemError {
  constructor() {
    super(404, 'move_not_found', 'Move not found', 'The tenant has no move.');
  }
}

export class MoveTargetInvalidProblem extends ProblemError {
  constructor(detail: string) {
    super(422, 'move_target_invalid', 'Invalid move target', detail);
  }
}

export class MoveNotAbortableProblem extends ProblemError {
  constructor(phase: string) {
    super(409, 'move_not_abortable', 'Move cannot be aborted', `The move is ${phase}: past the switch the tenant already lives on its new placement.`);
  }
}

/** Another process drives this move (holds its lease): follow it with GET, or wait and resume. */
export class MoveBusyProblem extends ProblemError {
  constructor() {
    super(409, 'move_busy', 'Move being driven elsewhere', 'Another process is driving this move right now.', { retryAfterSeconds: 5 });
  }
}

/** The target disagreed with the source after the final catch-up: nothing was switched. */
export class ParityMismatchError extends Error {
  constructor(readonly tables: string[]) {
    super(`parity check failed on ${tables.join(', ')}: nothing switched, the source is still the tenant's placement`);
    this.name = 'ParityMismatchError';
  }
}

/**
 * The session holding this process's lease on the move is gone (the control database restarted or
 * ended it): another process may already drive the move, so this one stops, recording nothing.
 */
export class MoveLeaseLostError extends Error {
  constructor(readonly reason: unknown) {
    super('the lease on this move was lost: stopping, another process may drive it');
    this.name = 'MoveLeaseLostError';
  }
}

import { ProblemError } from '@bulkhead/problem';

/**
 * A history cursor names a row, and offboarding erases a tenant's rows: a page after a vanished
 * event would read as the end of the history, so it is refused instead.
 */
export class NoisyCursorUnknownProblem extends ProblemError {
  constructor() {
    super(400, 'cursor_unknown', 'Unknown cursor', 'No event has that id (it may have been erased with its tenant); start again without `before`.');
  }
}

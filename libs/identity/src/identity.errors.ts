import { ProblemError } from '@bulkhead/problem';

export class OperatorRequiredProblem extends ProblemError {
  constructor() {
    super(403, 'operator_required', 'Operator access required', 'This operation requires an operator token.');
  }
}

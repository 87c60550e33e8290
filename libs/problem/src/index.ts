export { ProblemError, ServiceUnavailableProblem, PlacementOutdatedProblem, ValidationProblem, type FieldProblem } from './problem.error';
export { ProblemFilter, PROBLEM_OBSERVER, type ProblemObserver, toProblem, sendProblem, PROBLEM_CONTENT_TYPE, type ProblemBody } from './problem.filter';
export { problemValidationPipe, FAST_VALIDATION } from './problem.validation-pipe';
export { isInfrastructureFailure, isSchemaBehindCode } from './infrastructure-failure';
export { answerClientError, answerConnect, answerUnmetExpectation } from './client-error';

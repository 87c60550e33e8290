export { ProblemError, ServiceUnavailableProblem, ValidationProblem, type FieldProblem } from './problem.error';
export { ProblemFilter, PROBLEM_OBSERVER, type ProblemObserver, toProblem, sendProblem, refuseUnstorableText, PROBLEM_CONTENT_TYPE, type ProblemBody } from './problem.filter';
export { problemValidationPipe } from './problem.validation-pipe';
export { isInfrastructureFailure } from './infrastructure-failure';
export { answerClientError } from './client-error';

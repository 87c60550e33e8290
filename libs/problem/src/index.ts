export { ProblemError, ServiceUnavailableProblem, ValidationProblem, type FieldProblem } from './problem.error';
export { ProblemFilter, toProblem, sendProblem, PROBLEM_CONTENT_TYPE, type ProblemBody } from './problem.filter';
export { problemValidationPipe } from './problem.validation-pipe';
export { isInfrastructureFailure } from './infrastructure-failure';
export { answerClientError } from './client-error';

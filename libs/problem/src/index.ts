export { ProblemError, ValidationProblem, type FieldProblem } from './problem.error';
export { ProblemFilter, toProblem, sendProblem, refuseNulCharacters, PROBLEM_CONTENT_TYPE, type ProblemBody } from './problem.filter';
export { problemValidationPipe } from './problem.validation-pipe';

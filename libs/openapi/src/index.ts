export { buildOpenApiDocument, type OpenApiDocumentOptions } from './build-openapi-document';
export { ApiProblem, type ProblemScope } from './api-problem.decorator';
export { ApiRequestHeader, type RequestHeader } from './api-request-header.decorator';
export { ApiResponseHeader, type ResponseHeader } from './api-response-header.decorator';
export { IsOmittable } from './omittable.decorator';
export { UndocumentableDtoError } from './validation-schema.shim';
export { PROBLEM_SCHEMA, FIELD_PROBLEM_SCHEMA } from './problem-responses';
export { AcceptsAnyQuery, ANY_QUERY } from './accepts-any-query.decorator';

export { runIsolationMatrix, type IsolationMatrixOptions, type IsolationTenant } from './isolation-matrix';
export { assertIsolated, IsolationKitError, type CaseKind, type IsolationCase, type IsolationReport } from './isolation-report';
export { RequestGenerator, GenerationError, type Actor, type GeneratedRequest, type InvalidRequest, type RequestOptions, type Resource } from './request-generator';
export { ResourceCatalogue, type Collection } from './resource-catalogue';
export { operationsOf, resolveSchema, fillPath, type ApiOperation, type HttpMethod, type Parameter, type Schema } from './openapi-operations';
export { SchemaValidator } from './schema-validator';
export { ApiClient, type ApiRequest, type ApiResponse } from './api-client';
export { removeNoise, DEFAULT_NOISE_KEYS, type NoiseOptions, type NormalisedResponse, type ResponseNormaliser } from './response-normaliser';
export { sampleRegex } from './regex-sampler';

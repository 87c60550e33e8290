import { INestApplication, Type } from '@nestjs/common';
import { ApiExtension, DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { OperationObject, ParameterObject, ReferenceObject, RequestBodyObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import { RequestHeader } from './api-request-header.decorator';
import { ResponseHeader } from './api-response-header.decorator';
import { documentProblems, platformProblems, problemSchemas } from './problem-responses';
import { discoverRoutes, inScope, RouteInfo } from './route-discovery';
import { documentValidationRules, DtoRole } from './validation-schema.shim';

export interface OpenApiDocumentOptions {
  title?: string;
  description?: string;
  version?: string;
}

/** Carries a route's identity from its handler to its operation object; removed before returning. */
const ROUTE_EXTENSION = 'x-bulkhead-route';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * The API's OpenAPI document, derived from what the running application enforces: the DTOs'
 * class-validator rules, the parameter pipes, the JSON middleware and the problems declared with
 * `@ApiProblem` on routes, controllers, global guards and interceptors, and the request headers
 * those declare with `@ApiRequestHeader`, and the response headers they set (`@ApiResponseHeader`).
 */
export function buildOpenApiDocument(app: INestApplication, options: OpenApiDocumentOptions = {}): OpenAPIObject {
  const { routes, guardProblems, guardHeaders, guardResponseHeaders } = discoverRoutes(app);
  const dtos: Array<{ type: Type<unknown>; role: DtoRole }> = routes.flatMap((route) => [
    ...route.bodyTypes.map((type) => ({ type, role: 'body' as const })),
    ...route.queryTypes.map((type) => ({ type, role: 'query' as const })),
  ]);
  const bodies = documentValidationRules(dtos);
  for (const route of routes) ApiExtension(ROUTE_EXTENSION, route.key)(route.controller.prototype, route.methodKey, { value: route.handler });

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(options.title ?? 'Bulkhead API')
      .setDescription(options.description ?? 'Tenant-scoped API: the tenant is always the one in your bearer token. Errors are RFC 9457 problem+json.')
      .setVersion(options.version ?? '1')
      .addBearerAuth()
      .build(),
  );
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...problemSchemas() } };
  closeBodySchemas(document, bodies);

  const byKey = new Map(routes.map((route) => [route.key, route]));
  for (const item of Object.values(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method] as (OperationObject & Record<string, unknown>) | undefined;
      if (!operation) continue;
      const route = byKey.get(operation[ROUTE_EXTENSION] as string);
      delete operation[ROUTE_EXTENSION];
      if (!route) continue;
      documentPathParameters(operation, route);
      const secured = (operation.security ?? document.security ?? []).length > 0;
      const generic = platformProblems({ method, operation, secured, inputName: firstInputName(document, operation) });
      const guarded = secured ? guardProblems.filter((declared) => inScope(declared, route)).map((declared) => declared.body) : [];
      if (secured) documentRequestHeaders(operation, guardHeaders.filter((declared) => inScope(declared, route)).map((declared) => declared.header));
      documentProblems(operation, generic, [...guarded, ...route.problems]);
      if (secured) documentResponseHeaders(operation, guardResponseHeaders.filter((declared) => inScope(declared, route)).map((declared) => declared.header));
    }
  }
  return document;
}

/** The ValidationPipe forbids unknown properties, in nested objects too. */
function closeBodySchemas(document: OpenAPIObject, bodies: Set<Type<unknown>>): void {
  const schemas = document.components?.schemas ?? {};
  for (const type of bodies) {
    const schema = schemas[type.name] as SchemaObject | undefined;
    if (schema) schema.additionalProperties = false;
  }
}

function documentPathParameters(operation: OperationObject, route: RouteInfo): void {
  for (const parameter of (operation.parameters ?? []) as ParameterObject[]) {
    const shape = parameter.in === 'path' ? route.pathParameters.get(parameter.name) : undefined;
    if (shape) parameter.schema = { ...(parameter.schema as SchemaObject), ...shape };
  }
}

function documentRequestHeaders(operation: OperationObject, headers: RequestHeader[]): void {
  if (!headers.length) return;
  const parameters = (operation.parameters ?? []) as ParameterObject[];
  for (const header of headers) {
    if (parameters.some((parameter) => parameter.in === 'header' && parameter.name.toLowerCase() === header.name.toLowerCase())) continue;
    parameters.push({ in: 'header', name: header.name, description: header.description, required: header.required ?? false, schema: header.schema, ...(header.example !== undefined ? { example: header.example } : {}) });
  }
  operation.parameters = parameters;
}

function documentResponseHeaders(operation: OperationObject, headers: ResponseHeader[]): void {
  for (const [status, response] of Object.entries(operation.responses ?? {}) as Array<[string, ResponseObject]>) {
    for (const header of headers) {
      if (!header.statuses.some((carried) => (carried === '2xx' ? /^2\d\d$/.test(status) : String(carried) === status))) continue;
      response.headers = { ...response.headers, [header.name]: { description: header.description, schema: header.schema } };
    }
  }
}

function firstInputName(document: OpenAPIObject, operation: OperationObject): string | undefined {
  const query = ((operation.parameters ?? []) as ParameterObject[]).find((parameter) => parameter.in === 'query');
  if (query) return query.name;
  const body = operation.requestBody as RequestBodyObject | undefined;
  const reference = body?.content?.['application/json']?.schema as ReferenceObject | undefined;
  const schema = reference?.$ref ? (document.components?.schemas?.[reference.$ref.split('/').pop() as string] as SchemaObject | undefined) : undefined;
  return schema?.required?.[0] ?? Object.keys(schema?.properties ?? {})[0];
}

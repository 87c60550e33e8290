import type { OpenAPIObject } from '@nestjs/swagger';

/** The OpenAPI 3.0 schema keywords the generators read. */
export interface Schema {
  type?: string;
  format?: string;
  pattern?: string;
  enum?: unknown[];
  example?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean | number;
  exclusiveMaximum?: boolean | number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  nullable?: boolean;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: boolean | Schema;
  allOf?: Schema[];
  $ref?: string;
  [keyword: string]: unknown;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: Schema;
}

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ApiOperation {
  /** "GET /v1/customers/{id}" */
  key: string;
  method: HttpMethod;
  path: string;
  pathParameters: Parameter[];
  queryParameters: Parameter[];
  /** The application/json request body schema, $refs resolved at the top level. */
  body?: Schema;
  /** The raw (unresolved) body schema, to validate against with its references. */
  bodySchema?: Schema;
  success?: { status: number; schema?: Schema };
  /** Every documented status. */
  statuses: number[];
  secured: boolean;
  /**
   * `x-bulkhead-journal: true`: the response is a record of what happened (the audit trail), which
   * grows with every request, refused ones included; it is not data a request may or may not change.
   */
  journal: boolean;
  /**
   * `x-bulkhead-platform-config: true`: the response is configuration operators set for every
   * tenant at once (the effective feature flags); no tenant's operation changes it.
   */
  platformConfig: boolean;
}

/** The OpenAPI extension marking a journal operation (see `ApiOperation.journal`). */
export const JOURNAL_EXTENSION = 'x-bulkhead-journal';
/** The OpenAPI extension marking platform configuration (see `ApiOperation.platformConfig`). */
export const PLATFORM_CONFIG_EXTENSION = 'x-bulkhead-platform-config';

const METHODS: HttpMethod[] = ['get', 'post', 'put', 'patch', 'delete'];

type RawOperation = {
  parameters?: Array<Parameter & { $ref?: string }>;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
  security?: unknown[];
  [JOURNAL_EXTENSION]?: unknown;
  [PLATFORM_CONFIG_EXTENSION]?: unknown;
};

/** Every operation of the document, in document order. */
export function operationsOf(document: OpenAPIObject): ApiOperation[] {
  const operations: ApiOperation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const raw = (item as Record<string, RawOperation | undefined>)[method];
      if (!raw) continue;
      const parameters = (raw.parameters ?? []).map((parameter) => ({ ...parameter, schema: resolveSchema(document, parameter.schema ?? {}) }));
      const bodySchema = raw.requestBody?.content?.['application/json']?.schema;
      const statuses = Object.keys(raw.responses ?? {}).filter((status) => /^\d{3}$/.test(status)).map(Number);
      const successStatus = statuses.filter((status) => status >= 200 && status < 300).sort()[0];
      const successSchema = successStatus ? firstSchema(raw.responses?.[String(successStatus)]?.content) : undefined;
      operations.push({
        key: `${method.toUpperCase()} ${path}`,
        method,
        path,
        pathParameters: parameters.filter((parameter) => parameter.in === 'path'),
        queryParameters: parameters.filter((parameter) => parameter.in === 'query'),
        body: bodySchema ? resolveSchema(document, bodySchema) : undefined,
        bodySchema,
        success: successStatus ? { status: successStatus, schema: successSchema ? resolveSchema(document, successSchema) : undefined } : undefined,
        statuses,
        secured: (raw.security ?? document.security ?? []).length > 0,
        journal: raw[JOURNAL_EXTENSION] === true,
        platformConfig: raw[PLATFORM_CONFIG_EXTENSION] === true,
      });
    }
  }
  return operations;
}

function firstSchema(content: Record<string, { schema?: Schema }> | undefined): Schema | undefined {
  return content ? Object.values(content).find((media) => media.schema)?.schema : undefined;
}

/** Follows a $ref and folds `allOf` into one schema; nested properties stay as they are. */
export function resolveSchema(document: OpenAPIObject, schema: Schema): Schema {
  let current = schema;
  for (let depth = 0; current.$ref; depth++) {
    if (depth > 32) throw new Error(`Circular $ref ${schema.$ref}`);
    const { $ref, ...siblings } = current;
    current = { ...lookup(document, $ref as string), ...siblings };
  }
  if (!current.allOf) return current;
  const { allOf, ...outer } = current;
  const merged: Schema = {};
  for (const part of allOf.map((member) => resolveSchema(document, member))) {
    Object.assign(merged, part, {
      properties: { ...merged.properties, ...part.properties },
      required: [...(merged.required ?? []), ...(part.required ?? [])],
    });
  }
  return { ...merged, ...outer };
}

function lookup(document: OpenAPIObject, ref: string): Schema {
  if (!ref.startsWith('#/')) throw new Error(`Only local $refs are supported, not ${ref}`);
  let node: unknown = document;
  for (const segment of ref.slice(2).split('/')) node = (node as Record<string, unknown> | undefined)?.[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
  if (!node) throw new Error(`Unresolvable $ref ${ref}`);
  return node as Schema;
}

/** Fills a path template: /v1/customers/{id} + { id } -> /v1/customers/<id>. */
export function fillPath(template: string, values: Record<string, string>): string {
  return template.replace(/\{([^}]+)\}/g, (_match, name: string) => {
    if (values[name] === undefined) throw new Error(`No value for path parameter {${name}} of ${template}`);
    return encodeURIComponent(values[name]);
  });
}

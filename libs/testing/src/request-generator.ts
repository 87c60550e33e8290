import type { OpenAPIObject } from '@nestjs/swagger';
import { randomBytes } from 'node:crypto';
import { ApiClient, ApiResponse } from './api-client';
import { breakagesOf, pathBreakages } from './invalid-variants';
import { ApiOperation, fillPath, operationsOf, Parameter, resolveSchema, Schema } from './openapi-operations';
import { Collection, ResourceCatalogue } from './resource-catalogue';
import { SampleOptions, sampleValue } from './schema-sampler';
import { SchemaValidator } from './schema-validator';

/** Whoever sends the requests: a bearer token and a name for messages. */
export interface Actor {
  label: string;
  token: string;
}

export interface GeneratedRequest {
  operation: ApiOperation;
  pathValues: Record<string, string>;
  query: Record<string, string>;
  body?: unknown;
}

export interface InvalidRequest {
  label: string;
  request: GeneratedRequest;
}

export interface Resource {
  collection: string;
  id: string;
  /** The item path, when the collection has an item route. */
  itemPath?: string;
}

export interface RequestOptions extends SampleOptions {
  /** Create new resources for the path parameters instead of reusing the actor's (for writes). */
  fresh?: boolean;
}

/** The generator cannot build a valid request from the document: a gap in the document or in the kit. */
export class GenerationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GenerationError';
  }
}

const UNKNOWN_PROPERTY = 'unexpectedProperty';

/**
 * Builds requests from an OpenAPI document alone: valid ones (examples, enums, formats, bounds,
 * required properties; path ids and `<thing>Id` references resolved by first creating the
 * resource through its collection's POST, as the same actor) and invalid variants of them.
 */
export class RequestGenerator {
  readonly operations: ApiOperation[];
  readonly catalogue: ResourceCatalogue;
  readonly validator: SchemaValidator;
  private readonly owned = new Map<string, Resource[]>();

  constructor(
    readonly document: OpenAPIObject,
    readonly client: ApiClient,
  ) {
    this.operations = operationsOf(document);
    this.catalogue = new ResourceCatalogue(this.operations);
    this.validator = new SchemaValidator(document);
  }

  operation(key: string): ApiOperation {
    const found = this.operations.find((operation) => operation.key === key);
    if (!found) throw new GenerationError(`The document has no operation ${key}`);
    return found;
  }

  /** Path parameters this generator cannot resolve to a collection; empty when it can do them all. */
  unresolvable(operation: ApiOperation): string[] {
    return operation.pathParameters.filter((parameter) => !this.catalogue.forPathParameter(operation, parameter.name)).map((parameter) => `{${parameter.name}}`);
  }

  async request(operation: ApiOperation, actor: Actor, options: RequestOptions = {}): Promise<GeneratedRequest> {
    const pathValues: Record<string, string> = {};
    for (const parameter of operation.pathParameters) {
      const collection = this.catalogue.forPathParameter(operation, parameter.name);
      if (!collection) throw new GenerationError(`${operation.key}: no collection creates the resources {${parameter.name}} names`);
      pathValues[parameter.name] = (options.fresh ? await this.create(actor, collection) : await this.ensure(actor, collection)).id;
    }
    const context = this.context(actor, options);
    const query: Record<string, string> = {};
    for (const parameter of operation.queryParameters) {
      if (!parameter.required && options.optional !== 'all') continue;
      query[parameter.name] = String(await sampleValue(parameter.schema, parameter.name, { ...context, nullOptional: false }));
    }
    let body: unknown;
    if (operation.body) {
      body = await sampleValue(operation.body, '', context);
      const errors = this.validator.errors(operation.bodySchema as Schema, body);
      if (errors.length) throw new GenerationError(`${operation.key}: generated a body its own schema refuses (${errors.join('; ')}): ${JSON.stringify(body)}`);
    }
    return { operation, pathValues, query, body };
  }

  /** Each way of breaking one input of a valid request; every one of them the document itself refuses. */
  invalidRequests(valid: GeneratedRequest): InvalidRequest[] {
    const out: InvalidRequest[] = [];
    const { operation } = valid;
    for (const parameter of operation.pathParameters) {
      for (const breakage of pathBreakages(parameter)) {
        out.push({ label: `path {${parameter.name}} ${breakage.label}`, request: { ...valid, pathValues: { ...valid.pathValues, [parameter.name]: String(breakage.value) } } });
      }
    }
    for (const parameter of operation.queryParameters) {
      for (const breakage of breakagesOf(parameter.schema, { inQuery: true })) {
        if (this.acceptsQuery(parameter, String(breakage.value))) continue;
        out.push({ label: `query ${parameter.name} ${breakage.label}`, request: { ...valid, query: { ...valid.query, [parameter.name]: String(breakage.value) } } });
      }
    }
    if (operation.queryParameters.length) {
      out.push({ label: 'an undocumented query parameter', request: { ...valid, query: { ...valid.query, [UNKNOWN_PROPERTY]: '1' } } });
    }
    if (operation.body && valid.body !== undefined) {
      const accepts = (body: unknown) => this.validator.isValid(operation.bodySchema as Schema, body);
      for (const variant of this.bodyVariants(operation.body, valid.body, [])) {
        if (!accepts(variant.body)) out.push({ label: variant.label, request: { ...valid, body: variant.body } });
      }
      if (!accepts([valid.body])) out.push({ label: 'the body is an array', request: { ...valid, body: [valid.body] } });
    }
    return out;
  }

  async send(request: GeneratedRequest, actor: Actor | undefined, headers: Record<string, string> = {}): Promise<ApiResponse> {
    return this.client.send({
      method: request.operation.method,
      path: fillPath(request.operation.path, request.pathValues),
      query: request.query,
      body: request.body,
      token: actor?.token,
      headers,
    });
  }

  /**
   * Generates and sends a valid request. A 409 on a write is retried with varied example values:
   * which values must be unique is something the document cannot say.
   */
  async sendValid(
    operation: ApiOperation,
    actor: Actor,
    options: RequestOptions = {},
    prepare?: (request: GeneratedRequest) => Promise<void>,
  ): Promise<{ request: GeneratedRequest; response: ApiResponse }> {
    let request = await this.request(operation, actor, options);
    await prepare?.(request);
    let response = await this.send(request, actor);
    for (const vary of ['required', 'all'] as const) {
      if (response.status !== 409 || operation.method === 'get' || operation.method === 'delete') break;
      request = { ...(await this.request(operation, actor, { ...options, fresh: false, vary })), pathValues: request.pathValues };
      response = await this.send(request, actor);
    }
    return { request, response };
  }

  /** A new resource of the collection, owned by the actor. */
  async create(actor: Actor, collection: Collection): Promise<Resource> {
    const { request, response } = await this.sendValid(collection.create, actor);
    const id = (response.json as { id?: unknown } | undefined)?.id;
    if (response.status >= 300 || typeof id !== 'string') {
      throw new GenerationError(`${collection.create.key} as ${actor.label} did not create a resource: ${response.status} ${response.text.slice(0, 500)} (body ${JSON.stringify(request.body)})`);
    }
    const resource: Resource = {
      collection: collection.path,
      id,
      itemPath: collection.item ? fillPath(collection.item.path, { ...request.pathValues, [collection.item.pathParameters.at(-1)?.name ?? 'id']: id }) : undefined,
    };
    this.owned.set(actor.token, [...this.resources(actor), resource]);
    return resource;
  }

  /** The actor's first resource of the collection, created when it has none. */
  async ensure(actor: Actor, collection: Collection): Promise<Resource> {
    return this.resources(actor).find((resource) => resource.collection === collection.path) ?? this.create(actor, collection);
  }

  resources(actor: Actor): Resource[] {
    return this.owned.get(actor.token) ?? [];
  }

  private context(actor: Actor, options: SampleOptions) {
    return {
      ...options,
      unique: () => randomBytes(4).toString('hex'),
      reference: async (name: string, schema: Schema) => {
        const collection = this.catalogue.isReference(name, schema) ? this.catalogue.forReference(name) : undefined;
        return collection ? (await this.ensure(actor, collection)).id : undefined;
      },
      resolve: (schema: Schema) => resolveSchema(this.document, schema),
      accepts: (schema: Schema, value: unknown) => this.validator.isValid(schema, value),
    };
  }

  private acceptsQuery(parameter: Parameter, value: string): boolean {
    const numeric = (parameter.schema.type === 'integer' || parameter.schema.type === 'number') && value.trim() !== '' && !Number.isNaN(Number(value));
    return this.validator.isValid(parameter.schema, numeric ? Number(value) : value);
  }

  private *bodyVariants(raw: Schema, top: unknown, path: string[]): Generator<{ label: string; body: unknown }> {
    const schema = resolveSchema(this.document, raw);
    const object = objectAt(top, path);
    if (!object) return;
    const edit = (change: (copy: Record<string, unknown>) => void) => {
      const copy = structuredClone(top);
      change(objectAt(copy, path) as Record<string, unknown>);
      return copy;
    };
    const where = path.length ? ` in ${path.join('.')}` : '';
    for (const property of schema.required ?? []) {
      yield { label: `${property} missing${where}`, body: edit((copy) => delete copy[property]) };
    }
    yield { label: `an unknown property${where}`, body: edit((copy) => (copy[UNKNOWN_PROPERTY] = 'x')) };
    for (const [property, propertyRaw] of Object.entries(schema.properties ?? {})) {
      const propertySchema = resolveSchema(this.document, propertyRaw);
      for (const breakage of breakagesOf(propertySchema, { nullable: propertySchema.nullable === true })) {
        yield { label: `${[...path, property].join('.')} ${breakage.label}`, body: edit((copy) => (copy[property] = breakage.value)) };
      }
      if (propertySchema.type === 'object' || propertySchema.properties) yield* this.bodyVariants(propertyRaw, top, [...path, property]);
    }
  }
}

function objectAt(value: unknown, path: string[]): Record<string, unknown> | undefined {
  let cursor = value;
  for (const segment of path) cursor = typeof cursor === 'object' && cursor !== null ? (cursor as Record<string, unknown>)[segment] : undefined;
  return typeof cursor === 'object' && cursor !== null && !Array.isArray(cursor) ? (cursor as Record<string, unknown>) : undefined;
}

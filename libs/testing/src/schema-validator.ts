import type { OpenAPIObject } from '@nestjs/swagger';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Schema } from './openapi-operations';

const DOCUMENT_ID = 'openapi-document';

/**
 * Validates values against the document's schemas with Ajv, reading OpenAPI 3.0 the way the
 * specification means it: `nullable: true` admits null also where the schema is a `$ref` or an
 * `allOf` (plain JSON Schema would still apply the referenced schema to null), and the boolean
 * `exclusiveMinimum`/`exclusiveMaximum` of 3.0 become draft-07's numbers.
 */
export class SchemaValidator {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(document: OpenAPIObject) {
    // strictSchema stays on, so a misspelt keyword in the document fails loudly here.
    this.ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false });
    addFormats(this.ajv);
    this.ajv.addVocabulary(['example', 'xml', 'externalDocs', 'components']);
    this.ajv.addSchema({ $id: DOCUMENT_ID, components: { schemas: toJsonSchema(document.components?.schemas ?? {}, true) } });
  }

  /** Human-readable errors; empty when the value is valid. */
  errors(schema: Schema, value: unknown): string[] {
    const key = JSON.stringify(schema);
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(toJsonSchema(schema) as object);
      this.compiled.set(key, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map((error) => `${error.instancePath || '(root)'} ${error.message ?? error.keyword}`);
  }

  isValid(schema: Schema, value: unknown): boolean {
    return this.errors(schema, value).length === 0;
  }
}

/** OpenAPI 3.0 schema (or a map of them) -> JSON Schema draft-07 Ajv understands. */
function toJsonSchema(node: unknown, isMap = false): unknown {
  if (Array.isArray(node)) return node.map((item) => toJsonSchema(item));
  if (typeof node !== 'object' || node === null) return node;
  if (isMap) return Object.fromEntries(Object.entries(node).map(([name, schema]) => [name, toJsonSchema(schema)]));
  const schema: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(node)) {
    if (keyword === 'properties') schema.properties = toJsonSchema(value, true);
    else if (keyword === 'example' || keyword === 'default' || keyword === 'enum') schema[keyword] = value;
    else if (keyword === '$ref' && typeof value === 'string' && value.startsWith('#/')) schema.$ref = `${DOCUMENT_ID}${value}`;
    else schema[keyword] = toJsonSchema(value);
  }
  for (const bound of ['Minimum', 'Maximum'] as const) {
    const exclusive = `exclusive${bound}`;
    const plain = bound.toLowerCase();
    if (schema[exclusive] === true) {
      schema[exclusive] = schema[plain];
      delete schema[plain];
    } else if (schema[exclusive] === false) {
      delete schema[exclusive];
    }
  }
  if (schema.nullable === true) {
    delete schema.nullable;
    const { description, example, ...rest } = schema;
    return { ...(description === undefined ? {} : { description }), ...(example === undefined ? {} : { example }), anyOf: [rest, { type: 'null' }] };
  }
  delete schema.nullable;
  return schema;
}

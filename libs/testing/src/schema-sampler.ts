import { randomUUID } from 'node:crypto';
import type { Schema } from './openapi-operations';
import { sampleRegex } from './regex-sampler';

export interface SampleOptions {
  /** Which optional properties to fill: none (the minimal request) or all of them. */
  optional?: 'none' | 'all';
  /** Send null for every optional property the document marks nullable. */
  nullOptional?: boolean;
  /**
   * Vary documented string examples (after a 409: which values must be unique is not in the
   * document): first those of required properties, then all of them.
   */
  vary?: 'required' | 'all';
}

export interface SampleContext extends SampleOptions {
  /** A short random token, to make values unique. */
  unique(): string;
  /** The id of a resource a property names (`customerId`), or undefined when it names none. */
  reference(name: string, schema: Schema): Promise<string | undefined>;
  /** Follows $ref/allOf. */
  resolve(schema: Schema): Schema;
  /** Whether a value satisfies a schema, to choose between candidates. */
  accepts(schema: Schema, value: unknown): boolean;
}

/**
 * A valid value for a schema, preferring what the document itself offers (example, default,
 * enum) and otherwise building one from its type, format, pattern and bounds.
 */
export async function sampleValue(raw: Schema, name: string, context: SampleContext, required = true): Promise<unknown> {
  const schema = context.resolve(raw);
  if (schema.type === 'object' || schema.properties) return sampleObject(schema, context);
  if (schema.type === 'array') {
    const count = Math.max(schema.minItems ?? 0, 1);
    const items: unknown[] = [];
    for (let index = 0; index < Math.min(count, schema.maxItems ?? count); index++) items.push(await sampleValue(schema.items ?? {}, name, context));
    return items;
  }
  if (schema.enum?.length) {
    if (schema.example !== undefined && schema.enum.includes(schema.example)) return schema.example;
    if (schema.default !== undefined && schema.enum.includes(schema.default)) return schema.default;
    return schema.enum[0];
  }
  if (schema.type === 'integer' || schema.type === 'number') return sampleNumber(schema);
  if (schema.type === 'boolean') return typeof schema.default === 'boolean' ? schema.default : true;
  return sampleString(schema, name, context, required);
}

async function sampleObject(schema: Schema, context: SampleContext): Promise<Record<string, unknown>> {
  const value: Record<string, unknown> = {};
  const required = new Set(schema.required ?? []);
  for (const [property, propertySchema] of Object.entries(schema.properties ?? {})) {
    const isRequired = required.has(property);
    if (!isRequired && context.optional !== 'all') continue;
    if (!isRequired && context.nullOptional && context.resolve(propertySchema).nullable === true) {
      value[property] = null;
      continue;
    }
    value[property] = await sampleValue(propertySchema, property, context, isRequired);
  }
  return value;
}

function sampleNumber(schema: Schema): number {
  const integer = schema.type === 'integer';
  let low = schema.minimum ?? Number.NEGATIVE_INFINITY;
  let high = schema.maximum ?? Number.POSITIVE_INFINITY;
  if (schema.exclusiveMinimum === true) low += integer ? 1 : 0.5;
  if (schema.exclusiveMaximum === true) high -= integer ? 1 : 0.5;
  for (const candidate of [schema.example, schema.default, 1]) {
    if (typeof candidate === 'number' && candidate >= low && candidate <= high && (!integer || Number.isInteger(candidate))) return candidate;
  }
  const value = Number.isFinite(low) ? low : Math.min(high, 0);
  return integer ? Math.ceil(value) : value;
}

async function sampleString(schema: Schema, name: string, context: SampleContext, required: boolean): Promise<string> {
  const fits = (value: string) => context.accepts({ ...schema, nullable: false }, value);
  switch (schema.format) {
    case 'uuid':
      return (await context.reference(name, schema)) ?? randomUUID();
    case 'email': {
      // Emails are unique keys often enough that every generated one is made unique.
      const example = typeof schema.example === 'string' ? schema.example : 'user@example.com';
      const [local, domain] = example.split('@');
      const unique = `${local}+${context.unique()}@${domain}`;
      return fits(unique) ? unique : example;
    }
    case 'date-time':
      // An author's example first: a pair of them can say what one format cannot (from before to).
      return typeof schema.example === 'string' && fits(schema.example) ? schema.example : new Date().toISOString();
    case 'date':
      return new Date().toISOString().slice(0, 10);
    case 'uri':
      return `https://example.com/${context.unique()}`;
    default:
      break;
  }
  if (typeof schema.example === 'string' && fits(schema.example)) {
    if (context.vary === 'all' || (context.vary === 'required' && required)) {
      for (const varied of [`${schema.example}-${context.unique()}`, `${schema.example}${context.unique()}`]) if (fits(varied)) return varied;
    }
    return schema.example;
  }
  if (typeof schema.default === 'string' && fits(schema.default)) return schema.default;
  if (schema.pattern) {
    const sampled = sampleRegex(schema.pattern);
    if (sampled !== undefined && fits(sampled)) return sampled;
    throw new Error(`Cannot generate a value for "${name}" matching ${schema.pattern}: give it an example`);
  }
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? Number.POSITIVE_INFINITY;
  let value = `${name || 'value'}-${context.unique()}`;
  if (value.length > max) value = value.slice(0, max);
  if (value.length < min) value = value.padEnd(min, 'x');
  return value;
}

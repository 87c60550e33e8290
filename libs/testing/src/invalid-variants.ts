import type { Parameter, Schema } from './openapi-operations';

/** One way of breaking one input, described for the test output. */
export interface Breakage {
  label: string;
  value: unknown;
}

const NOT_UUID = 'not-a-uuid';

/** Values a schema refuses, each breaking one rule the document states. */
export function breakagesOf(schema: Schema, options: { nullable?: boolean; inQuery?: boolean } = {}): Breakage[] {
  const out: Breakage[] = [];
  const { type } = schema;
  const inQuery = options.inQuery === true;
  if (!inQuery) {
    if (type === 'string' || schema.format || schema.pattern) out.push({ label: 'a number instead of a string', value: 12345 });
    if (type === 'integer' || type === 'number') out.push({ label: 'a string instead of a number', value: String(schema.example ?? schema.minimum ?? 1) });
    if (type === 'boolean') out.push({ label: 'a string instead of a boolean', value: 'true' });
    if (type === 'object' || schema.properties) {
      out.push({ label: 'a string instead of an object', value: 'object' });
      // A nested object validated without a type check takes an array as a list of such objects.
      out.push({ label: 'an array instead of an object', value: [] });
    }
    if (type === 'array') out.push({ label: 'a string instead of an array', value: 'array' });
    if (!options.nullable) out.push({ label: 'null where null is not allowed', value: null });
  } else if (type === 'integer' || type === 'number') {
    out.push({ label: 'not a number', value: 'abc' });
  }
  const number = (value: number) => (inQuery ? String(value) : value);
  if (type === 'integer') out.push({ label: 'a fraction where an integer is required', value: number(1.5) });
  if (typeof schema.minimum === 'number') out.push({ label: `below the minimum ${schema.minimum}`, value: number(schema.minimum - 1) });
  if (typeof schema.maximum === 'number') out.push({ label: `above the maximum ${schema.maximum}`, value: number(schema.maximum + 1) });
  if (typeof schema.minLength === 'number' && schema.minLength > 0) out.push({ label: `shorter than ${schema.minLength}`, value: 'x'.repeat(schema.minLength - 1) });
  if (typeof schema.maxLength === 'number') out.push({ label: `longer than ${schema.maxLength}`, value: 'x'.repeat(schema.maxLength + 1) });
  if (schema.pattern) {
    const regex = new RegExp(schema.pattern, 'u');
    const flipped = typeof schema.example === 'string' ? flipCase(schema.example) : undefined;
    const candidate = [flipped, '!', '#not matching#', '0', 'ZZZZZZZZZZ'].find((value) => value !== undefined && !regex.test(value));
    if (candidate !== undefined) out.push({ label: `not matching ${schema.pattern}`, value: candidate });
  }
  if (schema.enum?.length) out.push({ label: `not one of ${schema.enum.join(', ')}`, value: typeof schema.enum[0] === 'number' ? number(987654321) : 'not-in-the-enum' });
  if (schema.format === 'uuid') out.push({ label: 'not a uuid', value: NOT_UUID });
  if (schema.format === 'email') out.push({ label: 'not an email', value: 'not-an-email' });
  if (schema.format === 'date-time') out.push({ label: 'not a date-time', value: 'yesterday' });
  if (schema.format === 'uri') out.push({ label: 'not a uri', value: 'not a uri' });
  return out;
}

export function pathBreakages(parameter: Parameter): Breakage[] {
  const { schema } = parameter;
  if (schema.format === 'uuid') return [{ label: 'not a uuid', value: NOT_UUID }];
  if (schema.type === 'integer' || schema.type === 'number') return [{ label: 'not a number', value: 'abc' }];
  return [];
}

function flipCase(value: string): string {
  return [...value].map((char) => (char === char.toUpperCase() ? char.toLowerCase() : char.toUpperCase())).join('');
}

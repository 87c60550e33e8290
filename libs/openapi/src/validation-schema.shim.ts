import { Type } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptions, DECORATORS } from '@nestjs/swagger';
import type { MetadataStorage as TransformerStorage } from 'class-transformer/types/MetadataStorage';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
import { isPresent } from './omittable.decorator';

// class-transformer does not export its storage from the package root; @Type lives there.
const transformerStorage = (require('class-transformer/cjs/storage') as { defaultMetadataStorage: TransformerStorage }).defaultMetadataStorage;

export type DtoRole = 'body' | 'query';

type Schema = Record<string, unknown>;

/** A DTO property documented with @ApiProperty that the ValidationPipe would refuse as unknown. */
export class UndocumentableDtoError extends Error {
  constructor(problems: string[]) {
    super(`The OpenAPI document would promise properties the API refuses: ${problems.join('; ')}. Validate them or drop their @ApiProperty.`);
    this.name = 'UndocumentableDtoError';
  }
}

/**
 * Makes each DTO's @nestjs/swagger property metadata say what its class-validator rules enforce,
 * by applying `ApiProperty` again with the derived options: swagger merges them over what the
 * author wrote (descriptions and examples survive; types, bounds and formats follow validation).
 * Returns every class that ends up as a request body schema, nested ones included.
 */
export function documentValidationRules(dtos: Array<{ type: Type<unknown>; role: DtoRole }>): Set<Type<unknown>> {
  const bodies = new Set<Type<unknown>>();
  const done = new Map<Type<unknown>, Set<DtoRole>>();
  const problems: string[] = [];
  const visit = (type: Type<unknown>, role: DtoRole) => {
    const roles = done.get(type) ?? new Set<DtoRole>();
    if (roles.has(role)) return;
    done.set(type, roles.add(role));
    if (role === 'body') bodies.add(type);
    const rules = rulesByProperty(type);
    for (const property of documentedProperties(type)) {
      if (!rules.has(property)) problems.push(`${type.name}.${property} has no validation rule`);
    }
    for (const [property, metadata] of rules) {
      const derived = deriveProperty(type, property, metadata, role);
      ApiProperty(derived.options)(type.prototype as object, property);
      dropUnenforcedConstraints(type, property, derived.options);
      if (derived.nested) visit(derived.nested, role);
    }
  };
  for (const { type, role } of dtos) visit(type, role);
  if (problems.length) throw new UndocumentableDtoError(problems);
  return bodies;
}

const CONSTRAINTS = ['nullable', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'pattern', 'format', 'enum', 'minItems', 'maxItems', 'uniqueItems'];

/** An author-written bound or format that no rule enforces would be a promise the API does not keep. */
function dropUnenforcedConstraints(type: Type<unknown>, property: string, derived: ApiPropertyOptions): void {
  const metadata: Record<string, unknown> = { ...Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES, type.prototype, property) };
  const stale = CONSTRAINTS.filter((key) => key in metadata && !(key in derived) && !(key === 'enum' && derived.isArray));
  if (!stale.length) return;
  for (const key of stale) delete metadata[key];
  Reflect.defineMetadata(DECORATORS.API_MODEL_PROPERTIES, metadata, type.prototype, property);
}

/** The same lookup the ValidationPipe's validator does (no groups, not `always`). */
function rulesByProperty(type: Type<unknown>): Map<string, ValidationMetadata[]> {
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const metadata of getMetadataStorage().getTargetValidationMetadatas(type, '', false, false)) {
    byProperty.set(metadata.propertyName, [...(byProperty.get(metadata.propertyName) ?? []), metadata]);
  }
  return byProperty;
}

function documentedProperties(type: Type<unknown>): string[] {
  const keys: string[] = Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES_ARRAY, type.prototype) ?? [];
  return keys.map((key) => key.replace(/^:/, ''));
}

interface Derived {
  options: ApiPropertyOptions;
  nested?: Type<unknown>;
}

function deriveProperty(type: Type<unknown>, property: string, rules: ValidationMetadata[], role: DtoRole): Derived {
  const own: Schema = {};
  const items: Schema = {};
  let optional = false;
  let nullable = false;
  let nested: Type<unknown> | undefined;
  let nestedEach = false;
  const unmapped: string[] = [];
  for (const rule of rules) {
    const target = rule.each ? items : own;
    switch (rule.type) {
      case ValidationTypes.CONDITIONAL_VALIDATION:
        optional = true;
        // IsOptional skips validation for null too; IsOmittable (isPresent) only for undefined.
        if (rule.name === 'isOptional') nullable = true;
        else if (rule.constraints?.[0] !== isPresent) unmapped.push('a condition (ValidateIf)');
        break;
      case ValidationTypes.NESTED_VALIDATION:
        nested = nestedType(type, property);
        nestedEach = rule.each === true || Reflect.getMetadata('design:type', type.prototype, property) === Array;
        break;
      case ValidationTypes.CUSTOM_VALIDATION:
        if (!applyRule(target, rule.name ?? '', rule.constraints ?? [])) unmapped.push(rule.name ?? 'a custom rule');
        break;
      default:
        break;
    }
  }
  // @Allow() alone whitelists a property without checking it: absent and null pass too.
  if (rules.every((rule) => rule.type === ValidationTypes.WHITELIST)) {
    optional = true;
    nullable = true;
  }
  const options: Schema = { ...own, required: !optional };
  if (Object.keys(items).length || nestedEach) {
    options.isArray = true;
    options.type = nested ?? items.type ?? 'string';
    for (const [key, value] of Object.entries(items)) if (key !== 'type') options[key] = value;
  } else if (nested) {
    options.type = nested;
  }
  // A query string can never carry null, so nullability only means something in a body.
  if (role === 'body' && nullable) options.nullable = true;
  const existing: ApiPropertyOptions | undefined = Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES, type.prototype, property);
  if (unmapped.length) {
    const note = `Also validated: ${[...new Set(unmapped)].join(', ')}.`;
    const description = existing?.description ?? '';
    if (!description.includes(note)) options.description = description ? `${description} ${note}` : note;
  }
  return { options: options as ApiPropertyOptions, nested };
}

function nestedType(type: Type<unknown>, property: string): Type<unknown> | undefined {
  const declared = transformerStorage.findTypeMetadata(type, property);
  const resolved = (declared?.typeFunction?.() ?? Reflect.getMetadata('design:type', type.prototype, property)) as Type<unknown> | undefined;
  return resolved && resolved !== Array && resolved !== Object ? resolved : undefined;
}

/** class-validator rule name -> the OpenAPI keywords that say the same; false when there are none. */
function applyRule(schema: Schema, name: string, constraints: unknown[]): boolean {
  const [first, second] = constraints;
  switch (name) {
    case 'isString':
      schema.type ??= 'string';
      return true;
    case 'isInt':
      schema.type = 'integer';
      return true;
    case 'isNumber':
      if (schema.type !== 'integer') schema.type = 'number';
      return true;
    case 'isBoolean':
      schema.type = 'boolean';
      return true;
    case 'isArray':
      schema.type = 'array';
      return true;
    case 'isObject':
      schema.type = 'object';
      return true;
    case 'isIn':
      schema.enum = [...(first as unknown[])];
      schema.type ??= typeOfValues(first as unknown[]);
      return true;
    case 'isEnum': {
      const values = enumValues(first as Record<string, unknown>);
      schema.enum = values;
      schema.type ??= typeOfValues(values);
      return true;
    }
    case 'min':
      schema.minimum = first;
      return true;
    case 'max':
      schema.maximum = first;
      return true;
    case 'isPositive':
      schema.minimum = 0;
      schema.exclusiveMinimum = true;
      return true;
    case 'isLength':
      schema.type ??= 'string';
      if (typeof first === 'number') schema.minLength = first;
      if (typeof second === 'number') schema.maxLength = second;
      return true;
    case 'minLength':
      schema.minLength = first;
      return true;
    case 'maxLength':
      schema.maxLength = first;
      return true;
    case 'isNotEmpty':
      if (schema.minLength === undefined) schema.minLength = 1;
      return true;
    case 'matches': {
      const pattern = first instanceof RegExp ? first : new RegExp(String(first), typeof second === 'string' ? second : undefined);
      // JSON Schema patterns have no flags: a case-insensitive or multi-line rule cannot be said.
      if (/[imsy]/.test(pattern.flags)) return false;
      schema.type ??= 'string';
      schema.pattern = pattern.source;
      return true;
    }
    case 'isUuid':
      schema.type ??= 'string';
      schema.format = 'uuid';
      return true;
    case 'isRfc3339Instant':
      // JSON Schema's date-time is RFC 3339's date-time; the rule also refuses days a month lacks.
      schema.type ??= 'string';
      schema.format = 'date-time';
      return true;
    case 'isEmail':
      schema.type ??= 'string';
      schema.format = 'email';
      return true;
    case 'isUrl':
      schema.type ??= 'string';
      schema.format = 'uri';
      return true;
    case 'arrayMinSize':
      schema.minItems = first;
      return true;
    case 'arrayMaxSize':
      schema.maxItems = first;
      return true;
    case 'arrayUnique':
      schema.uniqueItems = true;
      return true;
    default:
      return false;
  }
}

function enumValues(object: Record<string, unknown>): unknown[] {
  // Numeric TypeScript enums map values back to names; keep only the values.
  return Object.entries(object)
    .filter(([key]) => !/^\d+$/.test(key))
    .map(([, value]) => value);
}

function typeOfValues(values: unknown[]): string {
  if (values.every((value) => Number.isInteger(value))) return 'integer';
  if (values.every((value) => typeof value === 'number')) return 'number';
  return 'string';
}

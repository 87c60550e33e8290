import fc from 'fast-check';
import { fillPath, type ApiOperation, type Schema } from './openapi-operations';
import type { Actor, GeneratedRequest } from './request-generator';

/** One request as bytes on the wire: path with its raw query, headers, body. */
export interface FuzzRequest {
  /** The operation it was mutated from, and how. */
  operation: string;
  mutations: string[];
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** A valid request and who sends it: what the fuzzer mutates. */
export interface FuzzBase {
  request: GeneratedRequest;
  actor: Actor;
}

export interface FuzzOptions {
  /** Same seed, same mutations. */
  seed: number;
  count: number;
  /** Other callers to swap in (another tenant, the operator): wrong-caller mutations use them. */
  actors: Actor[];
  /** Mutations applied to one request: 1 up to this many (default 3). */
  maxMutations?: number;
}

/** A request under construction: the body stays a value until a mutation makes it raw text. */
interface Draft {
  method: string;
  segments: string[];
  query: string[];
  headers: Record<string, string>;
  body: { value: unknown } | { raw: Buffer } | undefined;
}

interface Mutation {
  label: string;
  apply(draft: Draft, base: FuzzBase): void;
}

const DEEP_ARRAYS = 30_000;
const DEEP_OBJECTS = 10_000;
const OVER_BODY_LIMIT = 'x'.repeat(150 * 1024);

/** Every UTF-16 code unit, lone surrogates and U+0000 included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));

const edgeStrings = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud83d',
  '\ude00x',
  '\ud83d\ude00',
  '\u202eevil',
  '\ufeffbom',
  '\uffff',
  'e\u0301\u0301\u0301',
  '𝕏'.repeat(300),
  "' OR '1'='1",
  "'; DROP TABLE customers; --",
  '../../etc/passwd',
  '%00',
  '${7*7}',
  '<script>alert(1)</script>',
  '__proto__',
  'null',
  '-1',
  '1e309',
  'NaN',
  '\r\nX-Injected: 1',
  'x'.repeat(10_000),
  OVER_BODY_LIMIT,
);

const hostileString = fc.oneof(edgeStrings, fc.string({ unit: codeUnit, maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));

const hostileNumber = fc.oneof(
  fc.constantFrom(0, -0, -1, 1.5, 0.1, 1e21, -1e21, 2 ** 53 + 1, -(2 ** 53) - 1, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 31, -(2 ** 31) - 1, 2 ** 63, 1e12 + 1),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** Deep nesting is spliced into the JSON text in place of a marker: building it as a value would overflow JSON.stringify here. */
// 2,500 levels: shallow enough for the parser's recursion, deep enough for validation's (a 500 until the parser's depth limit).
const DEEP_TEXTS = ['['.repeat(DEEP_ARRAYS) + ']'.repeat(DEEP_ARRAYS), '{"a":'.repeat(DEEP_OBJECTS) + '1' + '}'.repeat(DEEP_OBJECTS), '{"a":'.repeat(500) + '[]' + '}'.repeat(500), '['.repeat(2500) + ']'.repeat(2500)];
const deepMarker = (index: number) => `\u0001deep${index}\u0001`;

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 3, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constantFrom(null, [], {}, [1, 2], { $gt: '' }, { __proto__: null, admin: true }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.nat(DEEP_TEXTS.length - 1).map(deepMarker) },
);

const hostileKey = fc.oneof(
  fc.constantFrom('tenantId', 'tenant_id', '__proto__', 'constructor', 'prototype', 'id', 'createdAt', '\ud800', '', 'a\u0000', 'x'.repeat(1000), '$where'),
  fc.string({ unit: codeUnit, maxLength: 12 }),
);

/** Path segments sent as they are (not encoded again), so percent-decoding is fuzzed too. */
const hostileSegment = fc.oneof(
  fc.constantFrom(
    'not-a-uuid',
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    '%7B00000000-0000-0000-0000-000000000000%7D',
    "1'%20OR%20'1'='1",
    '..',
    '.',
    '%2e%2e',
    '%2e%2e%2fadmin',
    '%00',
    '%',
    '%ZZ',
    '%ED%A0%80',
    '%C0%AF',
    '%F0%9F%98%80',
    'a'.repeat(5000),
    '-1',
    '0',
    '1e309',
  ),
  fc.uuid(),
  fc.uuid().map((uuid) => uuid.toUpperCase()),
  fc.uuid().map((uuid) => `${uuid}x`),
  fc.string({ unit: 'grapheme', maxLength: 30 }).map(encodeURIComponent),
);

const hostileQuery = fc.oneof(
  fc.constantFrom(
    'limit=-1',
    'limit=0',
    'limit=1e3',
    'limit=1.5',
    'limit=' + '9'.repeat(400),
    'limit=1&limit=2',
    'after=%ff',
    'after[]=x',
    'after[a]=b',
    '__proto__[x]=1',
    'constructor[prototype][x]=1',
    '%',
    '&&&',
    '=',
    'a=%00',
    'a=%ED%A0%80',
    'customerId=not-a-uuid',
    'projectId=',
    'status=' + 'x'.repeat(5000),
    'tenantId=00000000-0000-0000-0000-000000000000',
  ),
  fc.tuple(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 30 })).map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`),
);

const rawBodies = fc.constantFrom<string | Buffer>(
  '{',
  '{"a":1}garbage',
  '{"a":1,"a":2}',
  'NaN',
  '1e999',
  '"x"',
  'null',
  'true',
  '[]',
  '',
  '\ufeff{}',
  '{"x":"\\ud800"}',
  '{"\\u0000":1}',
  Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]),
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]),
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
);

/** What Node's client will put in a header value: visible Latin-1 and space (no DEL, no controls). */
const headerCharacter = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff })).map((code) => String.fromCharCode(code));

const badHeaders = fc.oneof(
  fc.constantFrom<[string, string]>(
    ['content-type', 'text/plain'],
    ['content-type', 'application/xml'],
    ['content-type', 'application/json; charset=utf-16'],
    ['content-type', 'application/json; charset=latin1'],
    ['content-type', 'application/json; charset=bogus'],
    ['content-type', 'application/merge-patch+json'],
    ['content-type', 'multipart/form-data; boundary=x'],
    ['content-type', 'application/x-www-form-urlencoded'],
    ['content-type', ''],
    ['content-type', 'APPLICATION/JSON'],
    ['content-type', 'application/json, text/plain'],
    ['content-encoding', 'gzip'],
    ['content-encoding', 'br'],
    ['content-encoding', 'bogus'],
    ['content-encoding', 'identity'],
    ['authorization', 'Bearer'],
    ['authorization', 'Bearer '],
    ['authorization', 'Basic dXNlcjpwYXNz'],
    ['authorization', 'Bearer x.y.z'],
    ['authorization', 'Bearer eyJhbGciOiJub25lIn0.e30.'],
    ['authorization', `Bearer ${'a'.repeat(8000)}`],
    ['x-tenant-id', 'not-a-uuid'],
    ['x-tenant-id', '00000000-0000-0000-0000-000000000000'],
    ['x-tenant-id', ''],
    ['host', 'evil.bulkhead.test'],
    ['host', `${'x'.repeat(300)}.bulkhead.test`],
    ['host', '..bulkhead.test'],
    ['host', 'bulkhead.test:99999'],
    ['host', '[::1]'],
    ['host', ''],
    ['accept', 'text/html'],
    ['accept', '*/*;q=abc'],
    ['accept-charset', 'utf-7'],
    ['x-request-id', 'a'.repeat(5000)],
    ['x-request-id', '\u00ff\u00fe'],
    ['range', 'bytes=0-1'],
    ['if-none-match', '*'],
    ['x-http-method-override', 'DELETE'],
    ['expect', '100-continue'],
    ['forwarded', 'for=evil;host=evil.bulkhead.test'],
  ),
  fc.tuple(fc.constantFrom('x-fuzz', 'x-tenant-id', 'x-request-id', 'accept-language', 'cookie'), fc.string({ unit: headerCharacter, maxLength: 60 })),
);

function bodyOf(draft: Draft): unknown {
  return draft.body && 'value' in draft.body ? draft.body.value : undefined;
}

function setBody(draft: Draft, value: unknown): void {
  draft.body = { value };
  draft.headers['content-type'] ??= 'application/json';
}

/** The ways to break one request; each mutation is seeded data applied to whichever request it lands on. */
function mutationArbitrary(actors: Actor[]): fc.Arbitrary<Mutation> {
  const propertyOf = (draft: Draft, base: FuzzBase, pick: number): string | undefined => {
    const body = bodyOf(draft);
    const schema = base.request.operation.body as Schema | undefined;
    const names = [...new Set([...Object.keys(schema?.properties ?? {}), ...(body && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : [])])];
    return names.length ? names[pick % names.length] : undefined;
  };
  const mutations: Array<fc.Arbitrary<Mutation>> = [
    fc.tuple(fc.nat(), hostileValue).map(([pick, value]) => ({
      label: 'a property set to a hostile value',
      apply(draft, base) {
        const property = propertyOf(draft, base, pick) ?? 'name';
        const body = bodyOf(draft);
        setBody(draft, { ...(body && typeof body === 'object' && !Array.isArray(body) ? body : {}), [property]: value });
      },
    })),
    fc.tuple(hostileKey, hostileValue).map(([key, value]) => ({
      label: 'an extra property',
      apply(draft) {
        const body = bodyOf(draft);
        const copy: Record<string, unknown> = body && typeof body === 'object' && !Array.isArray(body) ? { ...body } : {};
        Object.defineProperty(copy, key, { value, enumerable: true, configurable: true, writable: true });
        setBody(draft, copy);
      },
    })),
    fc.nat().map((pick) => ({
      label: 'a property removed',
      apply(draft, base) {
        const body = bodyOf(draft);
        const property = propertyOf(draft, base, pick);
        if (!property || !body || typeof body !== 'object') return;
        const { [property]: _removed, ...rest } = body as Record<string, unknown>;
        setBody(draft, rest);
      },
    })),
    hostileValue.map((value) => ({ label: 'the body replaced by a hostile value', apply: (draft) => setBody(draft, value) })),
    fc.constant<Mutation>({ label: 'the body wrapped in an array', apply: (draft) => setBody(draft, [bodyOf(draft) ?? {}]) }),
    fc.nat(40).map((depth) => ({
      label: 'the body nested',
      apply(draft) {
        let value = bodyOf(draft) ?? {};
        for (let level = 0; level < depth; level++) value = { nested: value };
        setBody(draft, value);
      },
    })),
    rawBodies.map((raw) => ({
      label: 'a raw body that is not a JSON object',
      apply(draft) {
        draft.body = { raw: Buffer.isBuffer(raw) ? raw : Buffer.from(raw) };
        draft.headers['content-type'] ??= 'application/json';
      },
    })),
    fc.tuple(fc.nat(), hostileSegment).map(([pick, segment]) => ({
      label: 'a hostile path id',
      apply(draft, base) {
        const variable = base.request.operation.path.split('/').map((part, index) => (/^\{.+\}$/.test(part) ? index : -1)).filter((index) => index >= 0);
        const index = variable.length ? variable[pick % variable.length] : draft.segments.length - 1;
        draft.segments[index] = segment;
      },
    })),
    fc.constantFrom('/', '//', '/..', '/.', '/%2e%2e/admin', '/x', '.json', '%00').map((suffix) => ({ label: 'a path suffix', apply: (draft) => void (draft.segments[draft.segments.length - 1] += suffix) })),
    fc.array(hostileQuery, { minLength: 1, maxLength: 4 }).map((parts) => ({ label: 'a hostile query string', apply: (draft) => void draft.query.push(...parts) })),
    fc.tuple(fc.nat(), hostileString).map(([pick, value]) => ({
      label: 'a query parameter set to a hostile value',
      apply(draft, base) {
        const parameters = base.request.operation.queryParameters;
        if (!parameters.length) return;
        const name = parameters[pick % parameters.length].name;
        // encodeURIComponent refuses lone surrogates: send those as raw UTF-8 of their code units.
        const encoded = [...value].map((char) => (char.length === 1 && char >= '\ud800' && char <= '\udfff' ? '%ED%A0%80' : encodeURIComponent(char))).join('');
        draft.query = draft.query.filter((part) => !part.startsWith(`${name}=`)).concat(`${name}=${encoded}`);
      },
    })),
    fc.array(badHeaders, { minLength: 1, maxLength: 3 }).map((headers) => ({
      label: 'bad headers',
      apply(draft) {
        for (const [name, value] of headers) draft.headers[name] = value;
      },
    })),
    fc.constantFrom('get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace').map((method) => ({ label: 'another method', apply: (draft) => void (draft.method = method) })),
    fc.nat().map((pick) => ({
      label: 'another caller',
      apply(draft) {
        const actor = actors[pick % (actors.length + 1)];
        if (actor) draft.headers.authorization = `Bearer ${actor.token}`;
        else delete draft.headers.authorization;
      },
    })),
  ];
  return fc.oneof(...mutations);
}

/**
 * Seeded mutations of valid requests: wrong types, huge and empty strings, Unicode edge cases
 * (lone surrogates, U+0000), deep nesting, extra and missing properties, numbers out of range,
 * hostile path ids and query strings, bad headers and content types, other methods and callers.
 * The i-th request mutates base i modulo the number of bases, so every base gets its share.
 */
export function fuzzRequests(bases: FuzzBase[], options: FuzzOptions): FuzzRequest[] {
  if (!bases.length) return [];
  const plans = fc.sample(fc.array(mutationArbitrary(options.actors), { minLength: 1, maxLength: options.maxMutations ?? 3 }), { seed: options.seed, numRuns: options.count });
  return plans.map((mutations, index) => {
    const base = bases[index % bases.length];
    const draft = draftOf(base);
    for (const mutation of mutations) mutation.apply(draft, base);
    return toRequest(draft, base.request.operation, mutations.map((mutation) => mutation.label));
  });
}

function draftOf({ request, actor }: FuzzBase): Draft {
  const path = fillPath(request.operation.path, request.pathValues);
  return {
    method: request.operation.method,
    segments: path.split('/'),
    query: Object.entries(request.query).map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`),
    headers: { authorization: `Bearer ${actor.token}`, accept: 'application/json, application/problem+json', ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: request.body !== undefined ? { value: request.body } : undefined,
  };
}

function toRequest(draft: Draft, operation: ApiOperation, mutations: string[]): FuzzRequest {
  let body: Buffer | undefined;
  if (draft.body && 'raw' in draft.body) body = draft.body.raw;
  else if (draft.body) {
    let text = JSON.stringify(draft.body.value) ?? 'null';
    DEEP_TEXTS.forEach((deep, index) => (text = text.split(JSON.stringify(deepMarker(index))).join(deep)));
    body = Buffer.from(text);
  }
  const path = draft.segments.join('/') + (draft.query.length ? `?${draft.query.join('&')}` : '');
  return { operation: operation.key, mutations, method: draft.method.toUpperCase(), path, headers: draft.headers, body };
}

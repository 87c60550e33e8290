import { ProblemError } from '@bulkhead/problem';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isUtf8 } from 'node:buffer';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/**
 * Fastify tests a parser's pattern against the normalised header, parameters included
 * (`application/json; charset="utf-8"`), so the pattern must allow them: anchored at `json$` it
 * refused every client that names its charset (415), and the charset check below never ran.
 */
const JSON_MEDIA_TYPE = /^application\/([a-z0-9.+-]+\+)?json(;|$)/i;
const UTF8 = /^utf-?8$/i;

const NOT_JSON = new ProblemError(400, 'bad_request', 'Bad request', 'The request body is not valid JSON.');
const NOT_UTF8 = new ProblemError(400, 'bad_request', 'Bad request', 'The request body is not valid UTF-8.');
const NUL = new ProblemError(400, 'bad_request', 'Bad request', 'Strings in the request body may not contain the NUL character.');
const LONE = new ProblemError(400, 'bad_request', 'Bad request', 'Strings in the request body may not contain an unpaired UTF-16 surrogate.');
/** Deeper than any body a route takes (usage events' free-form `data` included), far shallower than what recursion survives. */
const MAX_DEPTH = 64;
const TOO_DEEP = new ProblemError(400, 'bad_request', 'Bad request', `The request body is nested more than ${MAX_DEPTH} levels deep.`);
/** Keys a JavaScript object treats specially: validation would drop them silently instead of refusing them. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const PROTOTYPE_KEY = (key: string) => new ProblemError(400, 'bad_request', 'Bad request', `The request body may not use the key "${key}".`);
const CHARSET = new ProblemError(415, 'unsupported_media_type', 'Unsupported media type', 'The request body encoding is not supported: send UTF-8.');

class UnstorableText extends Error {
  constructor(readonly problem: ProblemError) {
    super(problem.detail);
  }
}

/**
 * The only request body parser: JSON (`application/json` and `application/*+json`) in UTF-8, up
 * to the body limit. It refuses bytes that are not UTF-8 (RFC 8259: JSON exchanged between
 * systems is UTF-8), and, at the edge, text no layer behind it can hold: U+0000
 * (PostgreSQL text cannot store it) and an unpaired UTF-16 surrogate (`"\ud800"` is valid JSON
 * but not Unicode text: validators that encode it throw, and UTF-8 cannot carry it), in keys too;
 * and the keys `__proto__`, `constructor` and `prototype`, which validation dropped silently (201).
 * An empty body is no body.
 * Every other media type is left without a parser, so Fastify answers it 415.
 */
export function registerJsonBodyParser(instance: FastifyInstance, bodyLimit: number): void {
  instance.removeAllContentTypeParsers();
  // Bytes, not text: Fastify's text decoding turned bytes that are not UTF-8 into U+FFFD, silently
  // when chunked, and with a Content-Length it then refused the body for a length mismatch.
  instance.addContentTypeParser(JSON_MEDIA_TYPE, { parseAs: 'buffer', bodyLimit }, (request: FastifyRequest, bytes: string | Buffer, done: (error: Error | null, body?: unknown) => void) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && !UTF8.test(charset)) return done(CHARSET);
    if (typeof bytes !== 'string' && !isUtf8(bytes)) return done(NOT_UTF8);
    const body = bytes.toString();
    // No body under a JSON type, as many clients send on every request: nothing, not bad JSON.
    // A route that needs one refuses it in validation.
    if (body.length === 0) return done(null, undefined);
    // Before parsing: the reviver and validation both recurse, and a stack overflow is not an answer.
    if (nestedBeyond(body, MAX_DEPTH)) return done(TOO_DEEP);
    try {
      done(null, JSON.parse(body, refuseUnstorableText));
    } catch (error) {
      done(error instanceof UnstorableText ? error.problem : NOT_JSON);
    }
  });
}

/** Whether JSON text nests arrays and objects deeper than `limit`, brackets inside strings aside. */
function nestedBeyond(text: string, limit: number): boolean {
  // Each level takes at least one character.
  if (text.length <= limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

function refuseUnstorableText(key: string, value: unknown): unknown {
  if (PROTOTYPE_KEYS.has(key)) throw new UnstorableText(PROTOTYPE_KEY(key));
  if (hasUnstorable(key)) throw new UnstorableText(key.includes('\u0000') ? NUL : LONE);
  if (typeof value === 'string' && hasUnstorable(value)) throw new UnstorableText(value.includes('\u0000') ? NUL : LONE);
  return value;
}

function hasUnstorable(text: string): boolean {
  return text.includes('\u0000') || LONE_SURROGATE.test(text);
}

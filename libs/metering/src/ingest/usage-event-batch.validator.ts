import { ValidationProblem, type FieldProblem } from '@bulkhead/problem';
import { isRFC3339 } from 'class-validator';
import { rfc3339Instant } from '@bulkhead/rfc3339';

export const MAX_BATCH_EVENTS = 1000;
export const EVENT_ID = /^[\x21-\x7e]{1,100}$/;
export const EVENT_TYPE = /^[a-z][a-z0-9_.-]{0,63}$/;
export const EVENT_SOURCE = /^\S/;
const ATTRIBUTES = new Set(['specversion', 'id', 'source', 'type', 'time', 'subject', 'datacontenttype', 'data']);

export interface ValidatedEvent {
  specversion: string;
  id: string;
  source: string;
  type: string;
  time?: string | null;
  subject?: string | null;
  datacontenttype?: string | null;
  data?: Record<string, unknown> | null;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const absent = (value: unknown) => value === undefined || value === null;

/**
 * The rules `UsageEventBatchDto`'s decorators declare, checked by hand in one pass: what the
 * validation pipe would refuse, this refuses, with the same field paths. A batch of 1,000 events
 * costs well under a millisecond instead of tens.
 */
export function validateUsageEventBatch(body: unknown): { events: ValidatedEvent[] } {
  const problems: FieldProblem[] = [];
  const refuse = (field: string, message: string) => problems.push({ field, messages: [message] });
  if (!isObject(body)) throw new ValidationProblem([{ field: 'body', messages: ['the body must be a JSON object'] }]);
  for (const key of Object.keys(body)) if (key !== 'events') refuse(key, `property ${key} should not exist`);
  const events = body.events;
  if (!Array.isArray(events)) refuse('events', 'events must be an array of 1 to 1000 events');
  else if (events.length < 1 || events.length > MAX_BATCH_EVENTS) refuse('events', `events must contain 1 to ${MAX_BATCH_EVENTS} elements`);
  else {
    events.forEach((event: unknown, index) => {
      const at = `events.${index}`;
      if (!isObject(event)) return refuse(at, 'each event must be an object');
      for (const key of Object.keys(event)) if (!ATTRIBUTES.has(key)) refuse(`${at}.${key}`, `property ${key} should not exist`);
      if (event.specversion !== '1.0') refuse(`${at}.specversion`, 'specversion must be 1.0');
      if (typeof event.id !== 'string' || !EVENT_ID.test(event.id)) refuse(`${at}.id`, 'id must be 1-100 printable ASCII characters without spaces');
      if (typeof event.source !== 'string' || event.source.length > 255 || !EVENT_SOURCE.test(event.source)) refuse(`${at}.source`, 'source must be a non-empty string of at most 255 characters');
      if (typeof event.type !== 'string' || !EVENT_TYPE.test(event.type)) refuse(`${at}.type`, 'type must name a meter: lower-case letters, digits, ".", "_", "-"');
      if (!absent(event.time) && !(typeof event.time === 'string' && isRFC3339(event.time) && rfc3339Instant(event.time) !== undefined)) refuse(`${at}.time`, 'time must be an RFC 3339 date-time');
      if (!absent(event.subject) && !(typeof event.subject === 'string' && event.subject.length <= 255)) refuse(`${at}.subject`, 'subject must be a string of at most 255 characters');
      if (!absent(event.datacontenttype) && event.datacontenttype !== 'application/json') refuse(`${at}.datacontenttype`, 'datacontenttype must be application/json');
      if (!absent(event.data) && !isObject(event.data)) refuse(`${at}.data`, 'data must be an object');
    });
  }
  if (problems.length > 0) throw new ValidationProblem(problems);
  return body as unknown as { events: ValidatedEvent[] };
}
